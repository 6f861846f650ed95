// 所需材料 of a human task in the property panel. A task's own list is its `materials`
// extension property (JSON: [{name, required, note}]) and deploys with the diagram; a task
// without one uses processes/materials.csv, shown read-only with a button that copies it into
// the diagram to edit. Every change is one undoable command; the server validates the list.
(function () {
  "use strict";

  var F = window.LfFields;
  var X = window.LfExtensions;
  var PROPERTY = "materials";
  var FORBIDDEN = /[.\/\\*"'<>]/;
  var MAX_NAME = 60;
  var MAX_NOTE = 200;

  function parse(text) {
    try {
      var items = JSON.parse(text || "[]");
      if (!Array.isArray(items)) {
        return null;
      }
      return items.map(function (m) {
        return { name: String((m && m.name) || ""), required: !!(m && m.required), note: String((m && m.note) || "") };
      });
    } catch (e) {
      return null;
    }
  }

  function nameProblem(name, others) {
    if (!name) {
      return "材料名称不能为空";
    }
    if (name.length > MAX_NAME || FORBIDDEN.test(name)) {
      return "材料名称不超过 " + MAX_NAME + " 字，不能含有 . / \\ * 引号 尖括号";
    }
    if (others.indexOf(name) >= 0) {
      return "材料“" + name + "”已在清单中";
    }
    return null;
  }

  // panel: the LfPanel; element: the task's shape; task: its business object
  function section(panel, element, task) {
    var props = X.properties(task);
    var own = Object.prototype.hasOwnProperty.call(props, PROPERTY);
    var fromFile = (panel.context.materials || {})[element.id] || [];
    var write = function (list) {
      var change = {};
      change[PROPERTY] = list === null ? "" : JSON.stringify(list);
      panel.ext.setProperties(element, task, change);
      panel.render(element);
    };
    var box = F.el("div", { className: "pf pf-materials-editor", "data-field": "materials" }, [
      F.el("span", { className: "label", text: "所需材料" }),
    ]);
    if (!own) {
      box.appendChild(readOnly(fromFile));
      box.appendChild(F.note(fromFile.length
        ? "当前使用 processes/materials.csv 中为本环节列出的材料。"
        : "本环节未设置材料，processes/materials.csv 中也没有列出。"));
      var edit = F.el("button", { type: "button", className: "small", text: "在图中编辑材料清单" });
      edit.addEventListener("click", function () {
        write(fromFile.map(function (m) { return { name: m.name, required: m.required, note: m.note || "" }; }));
      });
      box.appendChild(edit);
      return box;
    }
    var list = parse(props[PROPERTY]);
    if (list === null) {
      box.appendChild(F.note("材料清单（materials 属性）不是有效的 JSON 列表，请在高级属性中修正或清空。", "error"));
      box.appendChild(resetButton(write));
      return box;
    }
    var status = F.el("p", { className: "pf-status bad", role: "status", "aria-live": "polite" });
    var table = F.el("table", { className: "pf-materials-table" }, [
      F.el("thead", {}, [F.el("tr", {}, [
        F.el("th", { text: "材料名称" }),
        F.el("th", { text: "必交" }),
        F.el("th", { text: "说明" }),
        F.el("th", { text: "" }),
      ])]),
    ]);
    var body = F.el("tbody");
    list.forEach(function (material, index) {
      body.appendChild(row(material, index, list, write, status));
    });
    table.appendChild(body);
    box.appendChild(list.length ? table : F.note("本环节不要求提交材料。"));
    box.appendChild(addRow(list, write, status));
    box.appendChild(status);
    box.appendChild(F.note("必交材料未上传时，经办人不能提交本环节。部署后新开始的环节按此清单收取材料。"));
    box.appendChild(resetButton(write));
    return box;
  }

  function readOnly(materials) {
    var list = F.el("ul", { className: "pf-materials" });
    materials.forEach(function (m) {
      list.appendChild(F.el("li", { text: m.name + (m.required ? "（必交）" : "（可选）") }));
    });
    return list;
  }

  function row(material, index, list, write, status) {
    var others = list.filter(function (_, i) { return i !== index; }).map(function (m) { return m.name; });
    var name = F.el("input", {
      type: "text", value: material.name, maxlength: MAX_NAME,
      "data-field": "material-name", "aria-label": "材料名称",
    });
    name.addEventListener("change", function () {
      var value = name.value.trim();
      var problem = nameProblem(value, others);
      status.textContent = problem || "";
      name.classList.toggle("invalid", !!problem);
      if (!problem) {
        write(replace(list, index, { name: value }));
      }
    });
    var required = F.el("input", {
      type: "checkbox", "data-field": "material-required", "aria-label": "必交：" + material.name,
    });
    required.checked = material.required;
    required.addEventListener("change", function () {
      write(replace(list, index, { required: required.checked }));
    });
    var note = F.el("input", {
      type: "text", value: material.note, maxlength: MAX_NOTE,
      "data-field": "material-note", "aria-label": "说明：" + material.name,
    });
    note.addEventListener("change", function () {
      write(replace(list, index, { note: note.value.trim() }));
    });
    var remove = F.el("button", { type: "button", className: "small secondary", text: "删除" });
    remove.addEventListener("click", function () {
      write(list.filter(function (_, i) { return i !== index; }));
    });
    return F.el("tr", { "data-material": material.name }, [
      F.el("td", {}, [name]),
      F.el("td", {}, [required]),
      F.el("td", {}, [note]),
      F.el("td", {}, [remove]),
    ]);
  }

  function addRow(list, write, status) {
    var name = F.el("input", {
      type: "text", maxlength: MAX_NAME, placeholder: "新材料名称",
      "data-field": "new-material", "aria-label": "新材料名称",
    });
    var required = F.el("input", { type: "checkbox", "data-field": "new-material-required" });
    var add = F.el("button", { type: "button", className: "small", text: "添加材料" });
    var submit = function () {
      var value = name.value.trim();
      var problem = nameProblem(value, list.map(function (m) { return m.name; }));
      status.textContent = problem || "";
      if (!problem) {
        write(list.concat([{ name: value, required: required.checked, note: "" }]));
      }
    };
    add.addEventListener("click", submit);
    name.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        submit();
      }
    });
    return F.el("div", { className: "pf-add" }, [
      name,
      F.el("label", { className: "pf-inline" }, [required, " 必交"]),
      add,
    ]);
  }

  function resetButton(write) {
    var reset = F.el("button", { type: "button", className: "small secondary", text: "改用 materials.csv 中的清单" });
    reset.addEventListener("click", function () { write(null); });
    return reset;
  }

  function replace(list, index, change) {
    return list.map(function (m, i) { return i === index ? Object.assign({}, m, change) : m; });
  }

  window.LfMaterials = { section: section, parse: parse };
})();
