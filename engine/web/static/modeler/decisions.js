// The decision table editor (dmn-js, loaded when first needed) for the table a business rule
// task calls. Edits are kept with the diagram (`extraFiles`: DMN file name → XML): validation
// checks them and deployment deploys them together with the diagram.
(function () {
  "use strict";

  var VENDOR = "/static/vendor/dmn-js/";
  var STYLES = [
    "dmn-js-shared.css",
    "dmn-js-drd.css",
    "dmn-js-decision-table.css",
    "dmn-js-decision-table-controls.css",
    "dmn-js-literal-expression.css",
    "dmn-embedded.css",
  ];
  var loading = null;

  function loadDmnJs() {
    if (window.DmnJS) {
      return Promise.resolve();
    }
    if (loading) {
      return loading;
    }
    STYLES.forEach(function (name) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = VENDOR + name;
      document.head.appendChild(link);
    });
    loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = VENDOR + "dmn-modeler.production.min.js";
      script.onload = resolve;
      script.onerror = function () { reject(new Error("决策表编辑器未能加载")); };
      document.head.appendChild(script);
    });
    return loading;
  }

  function Decisions(dialog, extraFiles, onKept) {
    this.dialog = dialog;
    this.extraFiles = extraFiles;
    this.onKept = onKept;
    this.editor = null;
    this.fileName = null;
    var self = this;
    dialog.querySelector("#dmn-close").addEventListener("click", function () { dialog.close(); });
    dialog.querySelector("#dmn-keep").addEventListener("click", function () { self.keep(); });
  }

  Decisions.prototype.open = async function (decisionId) {
    var title = this.dialog.querySelector("#dmn-title");
    title.textContent = "决策表：" + decisionId + "（加载中…）";
    this.dialog.showModal();
    try {
      await loadDmnJs();
      var found = await window.LfApi.get("/api/v1/modeler/decisions/" + encodeURIComponent(decisionId));
      this.fileName = found.file_name;
      var xml = this.extraFiles[found.file_name] || found.xml;
      var container = this.dialog.querySelector("#dmn-canvas");
      if (this.editor) {
        this.editor.destroy();
      }
      container.replaceChildren();
      translateTitles(container);
      var zh = { additionalModules: [window.LandflowZh.module] };
      this.editor = new window.DmnJS({
        container: container,
        drd: zh,
        decisionTable: zh,
        literalExpression: zh,
        boxedExpression: zh,
      });
      await this.editor.importXML(xml);
      var view = this.editor.getViews().find(function (v) {
        return v.type === "decisionTable" && v.element.id === decisionId;
      });
      if (view) {
        await this.editor.open(view);
      }
      title.textContent = "决策表：" + (view && view.element.name ? view.element.name : decisionId) +
        "（" + found.file_name + (this.extraFiles[found.file_name] ? "，已修改" : "") + "）";
    } catch (e) {
      title.textContent = "决策表无法打开：" + e.message;
    }
  };

  Decisions.prototype.keep = async function () {
    if (!this.editor || !this.fileName) {
      return;
    }
    var saved = await this.editor.saveXML({ format: true });
    this.extraFiles[this.fileName] = saved.xml;
    this.dialog.close();
    this.onKept(this.fileName);
  };

  // dmn-js writes a few tooltips without its translate service ("Move Input"): translate
  // them as they appear.
  function translateTitles(container) {
    if (container.dataset.titlesTranslated) {
      return;
    }
    container.dataset.titlesTranslated = "true";
    var dictionary = window.LandflowZh.dictionary;
    var fix = function (node) {
      var title = node.getAttribute && node.getAttribute("title");
      if (title && Object.prototype.hasOwnProperty.call(dictionary, title)) {
        node.setAttribute("title", dictionary[title]);
      }
    };
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        if (change.type === "attributes") {
          fix(change.target);
          return;
        }
        change.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) {
            fix(node);
            node.querySelectorAll("[title]").forEach(fix);
          }
        });
      });
    }).observe(container, { subtree: true, childList: true, attributes: true, attributeFilter: ["title"] });
  }

  window.LfDecisions = Decisions;
})();
