// Validation results on the diagram: each element with a problem gets a red (error) or amber
// (warning) outline and a badge with the number of problems (its messages on hover), and the
// list under the diagram names every problem; clicking one selects its element.
(function () {
  "use strict";

  var F = window.LfFields;
  var MARKERS = ["lf-problem-error", "lf-problem-warning"];

  function Problems(modeler, section, list, title) {
    this.modeler = modeler;
    this.section = section;
    this.list = list;
    this.title = title;
    this.marked = [];
    this.last = null;
  }

  // The shape an element id is drawn as: a process is drawn as its pool.
  Problems.prototype.shapeOf = function (elementId) {
    var registry = this.modeler.get("elementRegistry");
    if (!elementId) {
      return null;
    }
    var shape = registry.get(elementId);
    if (shape) {
      return shape;
    }
    return registry.find(function (e) {
      var bo = e.businessObject;
      return bo && bo.processRef && bo.processRef.id === elementId;
    }) || null;
  };

  Problems.prototype.clear = function () {
    var canvas = this.modeler.get("canvas");
    var overlays = this.modeler.get("overlays");
    this.marked.forEach(function (id) {
      MARKERS.forEach(function (m) { canvas.removeMarker(id, m); });
    });
    overlays.remove({ type: "lf-problems" });
    this.marked = [];
    this.list.replaceChildren();
    this.section.hidden = true;
  };

  Problems.prototype.show = function (result, heading) {
    var self = this;
    this.clear();
    this.last = result;
    var canvas = this.modeler.get("canvas");
    var overlays = this.modeler.get("overlays");
    var all = result.errors.concat(result.warnings);
    var byShape = {};
    all.forEach(function (problem) {
      var shape = self.shapeOf(problem.element_id);
      if (shape) {
        (byShape[shape.id] = byShape[shape.id] || []).push(problem);
      }
    });
    Object.keys(byShape).forEach(function (id) {
      var problems = byShape[id];
      var worst = problems.some(function (p) { return p.severity === "error"; }) ? "error" : "warning";
      canvas.addMarker(id, "lf-problem-" + worst);
      self.marked.push(id);
      var badge = F.el("div", {
        className: "lf-problem-badge lf-problem-badge-" + worst,
        title: problems.map(function (p) { return p.message; }).join("\n"),
        "data-element": id,
        text: String(problems.length),
      });
      var shape = self.modeler.get("elementRegistry").get(id);
      var position = shape.waypoints
        ? { top: -10, left: Math.max(0, midWidth(shape.waypoints) - 10) }
        : { top: -10, right: 10 };
      overlays.add(id, "lf-problems", { position: position, html: badge });
    });
    this.title.textContent = heading || (
      result.errors.length
        ? "校验未通过：" + result.errors.length + " 个错误，" + result.warnings.length + " 个警告"
        : "校验通过" + (result.warnings.length ? "，有 " + result.warnings.length + " 个警告" : "")
    );
    this.section.classList.toggle("has-errors", result.errors.length > 0);
    all.forEach(function (problem) {
      var shape = self.shapeOf(problem.element_id);
      var item = F.el("li", { className: "problem problem-" + problem.severity }, [
        F.el("span", { className: "problem-kind", text: problem.severity === "error" ? "错误" : "警告" }),
      ]);
      if (shape) {
        var link = F.el("button", {
          type: "button",
          className: "link-button",
          "data-element": shape.id,
          text: shape.businessObject.name || shape.id,
        });
        link.addEventListener("click", function () { self.focus(shape); });
        item.appendChild(link);
        item.appendChild(document.createTextNode("："));
      } else if (problem.file) {
        item.appendChild(document.createTextNode(problem.file + (problem.line ? "（第 " + problem.line + " 行）" : "") + "："));
      }
      item.appendChild(F.el("span", { className: "problem-message", text: problem.message }));
      self.list.appendChild(item);
    });
    this.section.hidden = false;
  };

  Problems.prototype.focus = function (shape) {
    var canvas = this.modeler.get("canvas");
    this.modeler.get("selection").select(shape);
    if (typeof canvas.scrollToElement === "function") {
      canvas.scrollToElement(shape, { top: 120, bottom: 120, left: 200, right: 200 });
    }
  };

  // a connection's overlay box starts at its leftmost point: put the badge mid-way
  function midWidth(points) {
    var xs = points.map(function (p) { return p.x; });
    return (Math.max.apply(null, xs) - Math.min.apply(null, xs)) / 2;
  }

  window.LfProblems = Problems;
})();
