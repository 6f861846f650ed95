// Controls of the property panel. Each writes through `onChange(value)`: at once for selects
// and check boxes, after a short pause while typing (and on leaving the field) for text.
// Expression fields ask the server to parse the text in the restricted language as you type.
(function () {
  "use strict";

  var counter = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") {
        node.textContent = attrs[key];
      } else if (key === "className") {
        node.className = attrs[key];
      } else if (attrs[key] !== undefined && attrs[key] !== null && attrs[key] !== false) {
        node.setAttribute(key, attrs[key] === true ? "" : attrs[key]);
      }
    });
    (children || []).forEach(function (child) {
      if (child) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function debounce(fn, wait) {
    var timer = null;
    var debounced = function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, wait);
    };
    debounced.flush = function () {
      clearTimeout(timer);
    };
    return debounced;
  }

  function field(label, control, opts) {
    opts = opts || {};
    var id = control.id || "pf-" + ++counter;
    control.id = id;
    var wrapper = el("div", { className: "pf" + (opts.className ? " " + opts.className : "") }, [
      el("label", { for: id, text: label }),
      control,
    ]);
    if (opts.hint) {
      wrapper.appendChild(el("p", { className: "hint", text: opts.hint }));
    }
    return wrapper;
  }

  function typing(input, onChange) {
    var later = debounce(function () { onChange(input.value); }, 400);
    input.addEventListener("input", later);
    input.addEventListener("change", function () {
      later.flush();
      onChange(input.value);
    });
  }

  function text(label, value, onChange, opts) {
    opts = opts || {};
    var input = el("input", {
      type: "text",
      value: value || "",
      "data-field": opts.name,
      placeholder: opts.placeholder,
      readonly: opts.readOnly,
      maxlength: opts.maxLength,
    });
    if (!opts.readOnly) {
      typing(input, onChange);
    }
    return field(label, input, opts);
  }

  function area(label, value, onChange, opts) {
    opts = opts || {};
    var input = el("textarea", { rows: opts.rows || 3, "data-field": opts.name });
    input.value = value || "";
    typing(input, onChange);
    return field(label, input, opts);
  }

  function select(label, options, value, onChange, opts) {
    opts = opts || {};
    var input = el("select", { "data-field": opts.name });
    input.appendChild(el("option", { value: "", text: opts.empty || "（未设置）" }));
    var known = false;
    options.forEach(function (option) {
      known = known || option.value === value;
      input.appendChild(el("option", { value: option.value, text: option.label }));
    });
    if (value && !known) {
      input.appendChild(el("option", { value: value, text: value + "（不在可选范围内）" }));
    }
    input.value = value || "";
    input.addEventListener("change", function () { onChange(input.value); });
    return field(label, input, opts);
  }

  function checkbox(label, checked, onChange, opts) {
    opts = opts || {};
    var input = el("input", { type: "checkbox", "data-field": opts.name });
    input.checked = !!checked;
    input.addEventListener("change", function () { onChange(input.checked); });
    var wrapper = el("div", { className: "pf pf-check" }, [
      el("label", {}, [input, " " + label]),
    ]);
    if (opts.hint) {
      wrapper.appendChild(el("p", { className: "hint", text: opts.hint }));
    }
    return wrapper;
  }

  // "5wd" / "20d": a number of days and the kind of days
  function limit(label, value, onChange, opts) {
    opts = opts || {};
    var found = /^\s*(\d+)\s*(wd|d)\s*$/.exec(value || "");
    var number = el("input", {
      type: "number",
      min: "1",
      max: "3650",
      value: found ? found[1] : "",
      "data-field": opts.name,
      "aria-label": label + "天数",
    });
    var unit = el("select", { "data-field": opts.name + "-unit", "aria-label": label + "单位" }, [
      el("option", { value: "wd", text: "个工作日" }),
      el("option", { value: "d", text: "个自然日" }),
    ]);
    unit.value = found ? found[2] : "wd";
    var raw = !found && value ? value : "";
    function write() {
      var days = number.value.trim();
      onChange(days ? days + unit.value : raw);
    }
    typing(number, write);
    unit.addEventListener("change", write);
    var control = el("span", { className: "pf-limit" }, [number, unit]);
    control.id = "pf-" + ++counter;
    number.id = control.id + "-n";
    var wrapper = field(label, control, opts);
    wrapper.querySelector("label").setAttribute("for", number.id);
    if (raw) {
      wrapper.appendChild(el("p", { className: "error", text: "当前值“" + raw + "”无法识别" }));
    }
    return wrapper;
  }

  function checklist(label, options, selected, onChange, opts) {
    opts = opts || {};
    var chosen = new Set(selected || []);
    var box = el("div", { className: "pf-checklist", role: "group", "data-field": opts.name });
    options.forEach(function (option) {
      var input = el("input", { type: "checkbox", value: option.value });
      input.checked = chosen.has(option.value);
      input.addEventListener("change", function () {
        if (input.checked) {
          chosen.add(option.value);
        } else {
          chosen.delete(option.value);
        }
        onChange(options.map(function (o) { return o.value; }).filter(function (v) {
          return chosen.has(v);
        }));
      });
      box.appendChild(el("label", {}, [input, " " + option.label]));
    });
    if (!options.length) {
      box.appendChild(el("p", { className: "hint", text: opts.none || "无可选项" }));
    }
    var wrapper = el("div", { className: "pf" }, [el("span", { className: "label", text: label }), box]);
    if (opts.hint) {
      wrapper.appendChild(el("p", { className: "hint", text: opts.hint }));
    }
    return wrapper;
  }

  // An expression (condition, timer: mode "eval") or a script ("exec"): the model follows
  // the text as it is typed; the server's parse says whether it is valid.
  function expression(label, value, mode, onChange, opts) {
    opts = opts || {};
    var input = el("textarea", {
      rows: mode === "exec" ? 8 : 2,
      spellcheck: "false",
      className: "code",
      "data-field": opts.name,
    });
    input.value = value || "";
    var status = el("p", { className: "pf-status", role: "status", "aria-live": "polite" });
    var check = debounce(async function () {
      var source = input.value;
      if (!source.trim()) {
        status.textContent = opts.optional ? "" : "未填写";
        status.className = "pf-status" + (opts.optional ? "" : " bad");
        return;
      }
      try {
        var result = await window.LfApi.post("/api/v1/modeler/expressions/check", {
          text: source,
          mode: mode,
        });
        if (input.value !== source) {
          return;
        }
        status.textContent = result.ok ? "语法正确" : result.message;
        status.className = "pf-status " + (result.ok ? "good" : "bad");
        input.classList.toggle("invalid", !result.ok);
      } catch (e) {
        status.textContent = "暂时无法检查：" + e.message;
        status.className = "pf-status";
      }
    }, 300);
    typing(input, onChange);
    input.addEventListener("input", check);
    var wrapper = field(label, input, opts);
    wrapper.appendChild(status);
    if (value) {
      check();
    }
    wrapper.insertText = function (snippet) {
      input.value = snippet;
      input.dispatchEvent(new Event("input"));
      input.dispatchEvent(new Event("change"));
    };
    return wrapper;
  }

  function section(title, children, opts) {
    opts = opts || {};
    var node = el(opts.collapsed ? "details" : "section", { className: "panel-section" });
    node.appendChild(el(opts.collapsed ? "summary" : "h3", { text: title }));
    children.forEach(function (child) {
      if (child) {
        node.appendChild(child);
      }
    });
    return node;
  }

  function note(textContent, className) {
    return el("p", { className: className || "hint", text: textContent });
  }

  window.LfFields = {
    el: el,
    debounce: debounce,
    text: text,
    area: area,
    select: select,
    checkbox: checkbox,
    limit: limit,
    checklist: checklist,
    expression: expression,
    section: section,
    note: note,
  };
})();
