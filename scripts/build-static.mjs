// Copies the browser assets Landflow serves itself from node_modules (installed by `npm ci`
// from package-lock.json) into engine/web/static/vendor/. Nothing is loaded from a CDN.
import { copyFileSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "engine", "web", "static", "vendor");

const assets = {
  "bpmn-js": {
    "dist/bpmn-navigated-viewer.production.min.js": "bpmn-navigated-viewer.production.min.js",
    "dist/assets/diagram-js.css": "diagram-js.css",
    "dist/assets/bpmn-js.css": "bpmn-js.css",
    "LICENSE": "LICENSE",
  },
  "swagger-ui-dist": {
    "swagger-ui-bundle.js": "swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui.css",
    "LICENSE": "LICENSE",
  },
};

rmSync(vendor, { recursive: true, force: true });
for (const [pkg, files] of Object.entries(assets)) {
  const source = join(root, "node_modules", pkg);
  if (!existsSync(source)) {
    console.error(`node_modules/${pkg} is missing: run \`npm ci\` first`);
    process.exit(1);
  }
  const target = join(vendor, pkg);
  mkdirSync(target, { recursive: true });
  for (const [from, to] of Object.entries(files)) {
    copyFileSync(join(source, from), join(target, to));
  }
}
console.log(`vendor assets in ${vendor}`);
