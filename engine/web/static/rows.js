// Tables of rows on task forms (a list of objects, e.g. 各村表决结果). Each .rows-field holds
// its rows as inputs named <field>.<row>.<column> and a <template> of a blank row whose names
// carry __row__; "添加一行" copies the template with the next free row number, "删除此行"
// removes its row. The server reads the rows in their numbers' order and skips blank ones.
(function () {
  "use strict";

  function renumber(node, row) {
    node.querySelectorAll("[name], [id], [aria-describedby]").forEach(function (input) {
      ["name", "id", "aria-describedby"].forEach(function (attribute) {
        var value = input.getAttribute(attribute);
        if (value && value.indexOf("__row__") !== -1) {
          input.setAttribute(attribute, value.split("__row__").join(String(row)));
        }
      });
    });
  }

  function addRow(field) {
    var template = field.querySelector("template[data-row-template]");
    var body = field.querySelector("tbody");
    var row = Number(field.getAttribute("data-next-row") || "0");
    var copy = template.content.cloneNode(true);
    renumber(copy, row);
    field.setAttribute("data-next-row", String(row + 1));
    body.appendChild(copy);
    var empty = field.querySelector(".rows-empty");
    if (empty) {
      empty.hidden = true;
    }
    var first = body.lastElementChild.querySelector("input, select, textarea");
    if (first) {
      first.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    var field = target.closest(".rows-field");
    if (!field) {
      return;
    }
    if (target.matches("[data-add-row]")) {
      event.preventDefault();
      addRow(field);
    } else if (target.matches("[data-remove-row]")) {
      event.preventDefault();
      var row = target.closest("tr");
      if (row) {
        row.remove();
      }
      var add = field.querySelector("[data-add-row]");
      if (add) {
        add.focus();
      }
    }
  });
})();
