// The CSV import's confirm button in 组织机构: apply the file slice by slice through
// POST /api/v1/org/import/{kind}/apply (each slice one command), showing the progress; without
// scripts the form posts the whole file to the page instead.
(function () {
  "use strict";

  function show(result, text, refused) {
    result.hidden = false;
    result.querySelector(".result-text").textContent = text;
    var list = result.querySelector(".refused-rows");
    list.textContent = "";
    refused.forEach(function (row) {
      var item = document.createElement("li");
      var why = row.problems.map(function (p) { return p.message; }).join("；");
      item.textContent = "第 " + row.line + " 行 " + row.label + "：" + why;
      list.appendChild(item);
    });
  }

  async function applyAll(form) {
    var progress = document.getElementById("import-progress");
    var bar = progress.querySelector("progress");
    var status = progress.querySelector(".progress-text");
    var total = Number(form.dataset.total);
    var body = { csv: form.elements.csv.value, start: 0, count: Number(form.dataset.slice) };
    var done = { applied: 0, unchanged: 0, rerouted: 0, refused: [] };
    form.hidden = true;
    progress.hidden = false;
    status.textContent = "已处理 0 / " + total + " 行";
    while (body.start !== null) {
      var response = await fetch("/api/v1/org/import/" + form.dataset.kind + "/apply", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-Landflow-CSRF": form.elements.csrf_token.value,
        },
        body: JSON.stringify(body),
      });
      var answer = await response.json();
      if (!response.ok) {
        throw new Error(answer.message || "导入失败（" + response.status + "）");
      }
      done.applied += answer.applied;
      done.unchanged += answer.unchanged;
      done.rerouted += answer.rerouted_tasks;
      done.refused = done.refused.concat(answer.refused);
      var reached = answer.next === null ? total : answer.next;
      bar.value = reached;
      status.textContent = "已处理 " + reached + " / " + total + " 行";
      body.start = answer.next;
    }
    return done;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("import-apply");
    if (!form || !window.fetch) {
      return;
    }
    var result = document.getElementById("import-result");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      applyAll(form)
        .then(function (done) {
          var text = "已导入 " + done.applied + " 行，不变 " + done.unchanged + " 行，拒绝 " +
            done.refused.length + " 行（未导入）";
          if (done.rerouted) {
            text += "；" + done.rerouted + " 个等待派发的环节已派给新部门";
          }
          show(result, text + "。", done.refused);
        })
        .catch(function (error) {
          var status = document.querySelector("#import-progress .progress-text");
          status.textContent = "导入中断：" + error.message + "。已导入的行保留，可重新上传文件继续。";
          status.setAttribute("role", "alert");
        });
    });
  });
})();
