#!/usr/bin/env bash
# Debian packages Landflow needs: Chromium for the browser tests (driven by Playwright
# through executable_path; Playwright never downloads a browser here); a CJK TrueType font so
# that screenshots of the zh-CN pages are legible and the server can embed it in PDFs (the
# 审批表, engine/services/approval_form.py reads wqy-microhei); node and npm to build the
# browser assets (bpmn-js, Swagger UI) from package-lock.json.
set -euo pipefail
PDF_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . \
  && [ -f "$PDF_FONT" ] && command -v npm >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# Ask apt only for what is missing: a machine whose node comes from elsewhere (nodesource,
# nvm) would otherwise refuse Debian's npm as a broken package and install nothing.
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
[ -f "$PDF_FONT" ] || packages+=(fonts-wqy-microhei)
command -v fc-list >/dev/null 2>&1 || packages+=(fontconfig)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ ${#packages[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
command -v chromium
