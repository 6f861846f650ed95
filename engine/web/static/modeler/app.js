// The modeler page: bpmn-js's modeler with the Chinese translation and our property panel;
// validate (problems marked on the diagram), save drafts, deploy a new version, download.
// `window.landflowModeler` exposes importXML / saveXML (and the modeler) for tests and for
// administrators who script the page.
(function () {
  "use strict";

  function say(text, kind) {
    var state = document.getElementById("modeler-state");
    state.textContent = text;
    state.className = "modeler-state" + (kind ? " " + kind : "");
  }

  // A wide process fitted into the canvas is too small to edit: show its beginning (top left)
  // at a readable scale instead, right of the palette.
  var READABLE = 0.75;

  function readable(canvas) {
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox();
    if (box.scale >= READABLE) {
      return;
    }
    canvas.viewbox({
      x: box.inner.x - 140 / READABLE,
      y: box.inner.y - 20 / READABLE,
      width: box.outer.width / READABLE,
      height: box.outer.height / READABLE,
    });
  }

  function start(root) {
    var page = {
      processId: root.dataset.process,
      fileName: root.dataset.file,
      version: Number(root.dataset.version),
      draftId: root.dataset.draft ? Number(root.dataset.draft) : null,
      extraFiles: {},
      dirty: false,
    };
    var modeler = new window.BpmnJS({
      container: "#modeler-canvas",
      additionalModules: [window.LandflowZh.module, window.LandflowKeepDi],
    });
    var problems = new window.LfProblems(
      modeler,
      document.getElementById("modeler-problems"),
      document.getElementById("problems-list"),
      document.getElementById("problems-title")
    );
    var panel = null;
    var decisions = new window.LfDecisions(
      document.getElementById("dmn-dialog"),
      page.extraFiles,
      function (fileName) {
        markDirty();
        say("决策表 " + fileName + " 已修改，将随流程一并校验和部署。", "dirty");
      }
    );

    function markDirty() {
      page.dirty = true;
    }

    async function importXML(xml) {
      var result = await modeler.importXML(xml);
      readable(modeler.get("canvas"));
      problems.clear();
      if (panel) {
        panel.render(null);
      }
      page.dirty = false;
      return { warnings: (result.warnings || []).map(function (w) { return w.message; }) };
    }

    async function saveXML() {
      var result = await modeler.saveXML({ format: true });
      return result.xml;
    }

    async function body() {
      return { file_name: page.fileName, xml: await saveXML(), extra_files: page.extraFiles };
    }

    async function validate() {
      say("正在校验…");
      var result = await window.LfApi.post("/api/v1/modeler/validate", await body());
      problems.show(result);
      say(result.valid ? "校验通过。" : "校验未通过，请按标红处修改。", result.valid ? "good" : "bad");
      return result;
    }

    async function saveDraft(note) {
      var saved = await window.LfApi.post("/api/v1/modeler/drafts", Object.assign(await body(), {
        process_id: page.processId,
        draft_id: page.draftId,
        base_version: page.version,
        note: note || "",
      }));
      page.draftId = saved.id;
      page.dirty = false;
      var url = new URL(window.location.href);
      url.searchParams.set("draft", String(saved.id));
      window.history.replaceState(null, "", url.toString());
      say("草稿 #" + saved.id + " 已保存。", "good");
      return saved;
    }

    async function deploy(note) {
      say("正在部署…");
      await saveDraft(note);
      try {
        var outcome = await window.LfApi.post("/api/v1/modeler/deploy", await body());
      } catch (e) {
        if (e.data && e.data.problems) {
          problems.show({
            errors: e.data.problems.map(function (p) { return Object.assign({ severity: "error" }, p); }),
            warnings: e.data.warnings || [],
          }, e.message);
        }
        say(e.message, "bad");
        throw e;
      }
      var mine = outcome.created.find(function (v) { return v.process_id === page.processId; });
      if (mine) {
        var link = "/modeler/diff?process=" + encodeURIComponent(page.processId) +
          "&base=" + page.version + "&target=" + mine.version;
        say("已部署为版本 " + mine.version + "。新发起的办件使用新版本。", "good");
        var state = document.getElementById("modeler-state");
        state.appendChild(document.createTextNode(" "));
        var anchor = document.createElement("a");
        anchor.href = link;
        anchor.textContent = "查看与版本 " + page.version + " 的差异";
        state.appendChild(anchor);
        page.version = mine.version;
        root.dataset.version = String(mine.version);
      } else {
        say("流程没有变化，未产生新版本。", "good");
      }
      problems.clear();
      return outcome;
    }

    function download() {
      saveXML().then(function (xml) {
        var blob = new Blob([xml], { type: "application/xml" });
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = page.fileName;
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
      });
    }

    // A .bpmn file from this computer (e.g. drawn in another modeler): it replaces what the
    // page holds and is validated, saved and deployed under its own file name.
    async function openLocal(file) {
      var text = await file.text();
      await importXML(text);
      page.fileName = file.name.replace(/\.xml$/i, ".bpmn").replace(/[\/\\]/g, "_");
      var processes = modeler.getDefinitions().rootElements.filter(function (e) {
        return e.$type === "bpmn:Process";
      });
      if (!processes.some(function (p) { return p.id === page.processId; }) && processes.length) {
        page.processId = processes[0].id;
      }
      page.draftId = null;
      page.dirty = true;
      say("已打开本地文件 " + file.name + "（尚未保存）。", "dirty");
    }

    function report(error) {
      say(error.message || String(error), "bad");
    }

    function wire() {
      document.getElementById("btn-validate").addEventListener("click", function () {
        validate().catch(report);
      });
      document.getElementById("btn-save").addEventListener("click", function () {
        saveDraft().catch(report);
      });
      document.getElementById("btn-download").addEventListener("click", download);
      var opener = document.getElementById("file-open");
      opener.addEventListener("change", function () {
        if (opener.files.length) {
          openLocal(opener.files[0]).catch(report);
          opener.value = "";
        }
      });
      var dialog = document.getElementById("deploy-dialog");
      document.getElementById("btn-deploy").addEventListener("click", function () {
        dialog.showModal();
      });
      dialog.addEventListener("close", function () {
        if (dialog.returnValue === "deploy") {
          deploy(document.getElementById("deploy-note").value).catch(function () {});
        }
      });
      var drafts = document.getElementById("draft-select");
      if (drafts) {
        drafts.addEventListener("change", function () {
          var url = new URL(window.location.href);
          if (drafts.value) {
            url.searchParams.set("draft", drafts.value);
          } else {
            url.searchParams.delete("draft");
          }
          window.location.href = url.toString();
        });
      }
      modeler.on("selection.changed", function (event) {
        panel.render(event.newSelection.length === 1 ? event.newSelection[0] : null);
      });
      modeler.on("commandStack.changed", function () {
        markDirty();
        say("有未保存的修改。", "dirty");
        panel.refresh();
      });
      window.addEventListener("beforeunload", function (event) {
        if (page.dirty) {
          event.preventDefault();
          event.returnValue = "";
        }
      });
    }

    var ready = (async function () {
      var loaded = await Promise.all([
        window.LfApi.get("/api/v1/modeler/choices"),
        window.LfApi.get("/api/v1/modeler/processes/" + encodeURIComponent(page.processId)),
        page.draftId
          ? window.LfApi.get("/api/v1/modeler/drafts/" + page.draftId)
          : Promise.resolve(null),
      ]);
      var choices = loaded[0];
      var model = loaded[1];
      var draft = loaded[2];
      if (draft) {
        Object.assign(page.extraFiles, draft.extra_files || {});
        page.fileName = draft.file_name;
      }
      panel = new window.LfPanel(modeler, document.getElementById("modeler-panel"), {
        choices: choices,
        materials: model.materials || {},
        processId: page.processId,
        openDecision: function (id) { decisions.open(id); },
      });
      await importXML(draft ? draft.xml : model.xml);
      wire();
      panel.render(null);
      say(draft
        ? "已打开草稿 #" + draft.id + "（" + (draft.note || "无说明") + "）。"
        : "已打开已部署的版本 " + page.version + "。");
      root.dataset.ready = "true";
    })();
    ready.catch(function (error) {
      root.dataset.ready = "failed";
      report(error);
    });

    window.landflowModeler = {
      modeler: modeler,
      ready: ready,
      importXML: importXML,
      saveXML: saveXML,
      validate: validate,
      saveDraft: saveDraft,
      deploy: deploy,
      extraFiles: page.extraFiles,
      openDecision: function (id) { return decisions.open(id); },
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("modeler");
    if (!root) {
      return;
    }
    if (!window.BpmnJS || !window.LandflowZh) {
      say("建模组件未能加载，请联系管理员（需要运行 make 构建前端组件）。", "bad");
      return;
    }
    start(root);
  });
})();
