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
    "dist/bpmn-modeler.production.min.js": "bpmn-modeler.production.min.js",
    "dist/assets/diagram-js.css": "diagram-js.css",
    "dist/assets/bpmn-js.css": "bpmn-js.css",
    "dist/assets/bpmn-font/css/bpmn-embedded.css": "bpmn-embedded.css",
    "LICENSE": "LICENSE",
  },
  "dmn-js": {
    "dist/dmn-modeler.production.min.js": "dmn-modeler.production.min.js",
    "dist/assets/dmn-js-shared.css": "dmn-js-shared.css",
    "dist/assets/dmn-js-drd.css": "dmn-js-drd.css",
    "dist/assets/dmn-js-decision-table.css": "dmn-js-decision-table.css",
    "dist/assets/dmn-js-decision-table-controls.css": "dmn-js-decision-table-controls.css",
    "dist/assets/dmn-js-literal-expression.css": "dmn-js-literal-expression.css",
    "dist/assets/dmn-font/css/dmn-embedded.css": "dmn-embedded.css",
    LICENSE: "LICENSE",
  },
  echarts: {
    "dist/echarts.min.js": "echarts.min.js",
    LICENSE: "LICENSE",
    NOTICE: "NOTICE",
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
