// The form editor: the JSON Schema in a text box; as it is typed, the server checks it (what
// start-up would refuse, our conventions, fields diagrams still read) and renders the preview
// with the task page's own renderer. Saving writes forms/<key>.json and keeps the version.
(function () {
  "use strict";

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
  }

  function list(title, items, className) {
    var box = document.createElement("div");
    box.className = className;
    var heading = document.createElement("p");
    heading.textContent = title;
    box.appendChild(heading);
    var ul = document.createElement("ul");
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("form-editor");
    if (!root) {
      return;
    }
    var key = root.dataset.form;
    var source = document.getElementById("form-content");
    var preview = document.getElementById("form-preview");
    var checkBox = document.getElementById("form-check");
    var state = document.getElementById("form-state");
    var base = "/api/v1/modeler/forms/" + encodeURIComponent(key);
    var round = 0;

    function say(text, kind) {
      state.textContent = text;
      state.className = "modeler-state" + (kind ? " " + kind : "");
    }

    async function refresh() {
      var mine = ++round;
      var content = source.value;
      try {
        var results = await Promise.all([
          window.LfApi.post(base + "/check", { content: content }),
          window.LfApi.html("/modeler/forms/" + encodeURIComponent(key) + "/preview", { content: content }),
        ]);
        if (mine !== round) {
          return;
        }
        var check = results[0];
        checkBox.replaceChildren();
        if (check.errors.length) {
          checkBox.appendChild(list("错误（不能保存）：", check.errors, "error"));
        }
        if (check.warnings.length) {
          checkBox.appendChild(list("提示：", check.warnings, "notice"));
        }
        if (check.valid && !check.warnings.length) {
          checkBox.appendChild(list("检查通过。", [], "good"));
        }
        preview.innerHTML = results[1].html;
        root.dataset.checked = check.valid ? "valid" : "invalid";
      } catch (e) {
        say("暂时无法检查：" + e.message, "bad");
      }
    }

    var later = debounce(refresh, 400);
    source.addEventListener("input", function () {
      root.dataset.checked = "pending";
      later();
    });
    preview.addEventListener("submit", function (event) { event.preventDefault(); });

    document.getElementById("form-save").addEventListener("click", async function () {
      try {
        var saved = await window.LfApi.put(base, {
          content: source.value,
          note: document.getElementById("form-note").value,
        });
        say("已保存为第 " + saved.revision + " 版，新打开的办理页面即使用此版本。", "good");
      } catch (e) {
        var details = e.data && e.data.errors ? e.data.errors.map(function (x) { return x.message; }) : [];
        say(e.message + (details.length ? "：" + details.join("；") : ""), "bad");
      }
    });

    document.querySelectorAll("[data-revision]").forEach(function (button) {
      button.addEventListener("click", async function () {
        var found = await window.LfApi.get(base + "/revisions/" + button.dataset.revision);
        source.value = found.content;
        say("已载入第 " + found.revision + " 版（尚未保存）。", "dirty");
        refresh();
      });
    });
    refresh();
  });
})();
