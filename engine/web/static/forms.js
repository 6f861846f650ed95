// Conditional requirements on task forms. Each .field[data-required-when] carries the
// conditions (from the form's JSON Schema if/then/else and dependentRequired) under which it is
// required; this script keeps the * marker, the required attribute and, for fields marked
// data-show="when-required", the visibility in step with the values the user chooses.
// The server checks the same conditions; this only shows them as the user types.
(function () {
  "use strict";

  function postedValues(form, name) {
    var values = [];
    form.querySelectorAll("[name]").forEach(function (input) {
      if (input.name !== name || input.disabled) {
        return;
      }
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) {
          values.push(input.value);
        }
      } else if (input.type !== "hidden" && input.value.trim() !== "") {
        values.push(input.value.trim());
      }
    });
    return values;
  }

  function clauseHolds(form, clause) {
    var values = postedValues(form, clause.field);
    if (values.length === 0) {
      return clause.when_absent;
    }
    if (clause.in === null) {
      return true;
    }
    return values.some(function (value) {
      return clause.in.indexOf(value) !== -1;
    });
  }

  function conditionHolds(form, condition) {
    var all = condition.all.every(function (clause) {
      return clauseHolds(form, clause);
    });
    return condition.negate ? !all : all;
  }

  function refresh(form) {
    form.querySelectorAll(".field[data-required-when]").forEach(function (field) {
      var conditions = JSON.parse(field.getAttribute("data-required-when"));
      var required =
        field.getAttribute("data-always-required") === "true" ||
        conditions.some(function (condition) {
          return conditionHolds(form, condition);
        });
      var marker = field.querySelector(".req");
      if (marker) {
        marker.hidden = !required;
      }
      var hide = field.getAttribute("data-show") === "when-required" && !required;
      field.hidden = hide;
      field.style.display = hide ? "none" : "";
      field.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = hide;
        if (input.type !== "hidden" && input.type !== "checkbox") {
          input.required = required;
        }
      });
    });
  }

  document.querySelectorAll("form[data-conditional]").forEach(function (form) {
    form.addEventListener("change", function () {
      refresh(form);
    });
    form.addEventListener("input", function () {
      refresh(form);
    });
    refresh(form);
  });
})();
