// The case page's diagram: bpmn-js (served from /static/vendor, built by `make install`) draws
// the case's BPMN XML; the elements the case has passed, stands at, is late at or failed at get
// markers (CSS classes lf-done, lf-active, lf-overdue, lf-failed, see case.css) and the active
// steps an overlay naming the department that handles them.
(function () {
  "use strict";

  var STATE_TITLES = { done: "已办", active: "在办", overdue: "超期", failed: "异常" };

  function say(container, text) {
    var status = container.querySelector(".diagram-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "diagram-status";
      container.appendChild(status);
    }
    status.textContent = text;
  }

  function departmentsOverlay(element) {
    var box = document.createElement("div");
    box.className = "lf-dept lf-dept-" + element.state;
    box.textContent = element.departments.map(function (d) { return d.name; }).join("、");
    box.title = STATE_TITLES[element.state] + "：" + box.textContent;
    return box;
  }

  // A wide process fitted into the box is too small to read: show it at a readable scale,
  // centred on the steps the case stands at (a finished case stays fitted as a whole).
  var READABLE = 0.8;

  function focus(canvas, registry, elements) {
    canvas.zoom("fit-viewport", "auto");
    var fitted = canvas.viewbox();
    if (fitted.scale >= READABLE) {
      return;
    }
    var current = elements.filter(function (e) { return e.state !== "done"; });
    var shown = current
      .map(function (e) { return registry.get(e.id); })
      .filter(function (shape) { return shape && shape.width !== undefined; });
    if (!shown.length) {
      return;
    }
    var left = Math.min.apply(null, shown.map(function (s) { return s.x; }));
    var top = Math.min.apply(null, shown.map(function (s) { return s.y; }));
    var right = Math.max.apply(null, shown.map(function (s) { return s.x + s.width; }));
    var bottom = Math.max.apply(null, shown.map(function (s) { return s.y + s.height; }));
    var width = fitted.outer.width / READABLE;
    var height = fitted.outer.height / READABLE;
    canvas.viewbox({
      x: (left + right) / 2 - width / 2,
      y: (top + bottom) / 2 - height / 2,
      width: width,
      height: height,
    });
  }

  function tools(container, canvas, registry, elements) {
    var bar = document.querySelector(".diagram-tools");
    if (!bar) {
      return;
    }
    bar.hidden = false;
    bar.querySelector("[data-view=whole]").addEventListener("click", function () {
      canvas.zoom("fit-viewport", "auto");
    });
    bar.querySelector("[data-view=current]").addEventListener("click", function () {
      focus(canvas, registry, elements);
    });
  }

  async function draw(container) {
    var response = await fetch(container.dataset.source, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      throw new Error("diagram " + response.status);
    }
    var diagram = await response.json();
    var viewer = new window.BpmnJS({ container: container });
    await viewer.importXML(diagram.xml);
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    diagram.elements.forEach(function (element) {
      if (!registry.get(element.id)) {
        return; // an element of a sub-process the viewer does not show
      }
      canvas.addMarker(element.id, "lf-" + element.state);
      if (element.departments.length && element.state !== "done") {
        overlays.add(element.id, "lf-departments", {
          position: { bottom: -4, left: 0 },
          html: departmentsOverlay(element),
        });
      }
    });
    focus(canvas, registry, diagram.elements);
    tools(container, canvas, registry, diagram.elements);
    var status = container.querySelector(".diagram-status");
    if (status) {
      status.remove();
    }
    container.dataset.rendered = "true";
    return viewer;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("case-diagram");
    if (!container) {
      return;
    }
    if (!window.BpmnJS) {
      say(container, "流程图组件未能加载，请联系管理员。下方“办理环节”列出了全部环节。");
      return;
    }
    draw(container).catch(function () {
      container.dataset.rendered = "failed";
      say(container, "流程图暂时无法显示，请稍后刷新。下方“办理环节”列出了全部环节。");
    });
  });
})();
