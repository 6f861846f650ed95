// The process heatmap: bpmn-js (served from /static/vendor) draws the process's newest diagram
// from the page's JSON block #heatmap-data; each user task gets a colour class lf-heat-0..4
// (dispatch.css) by the chosen measure — the share of its steps finished late in the period, or
// its average or 90th-percentile working days against the process's slowest step — a badge with
// its figures, and a click that opens the cases it finished in the period.
(function () {
  "use strict";

  var BANDS = {
    overdue: {
      legend: ["无办结", "低于5%", "5%–20%", "20%–50%", "50%及以上"],
      band: function (e) {
        if (e.overdue_share === null) { return 0; }
        var share = e.overdue_share;
        return share < 0.05 ? 1 : share < 0.2 ? 2 : share < 0.5 ? 3 : 4;
      },
    },
    avg: { legend: null, key: "avg_workdays", max: "max_avg_workdays" },
    p90: { legend: null, key: "p90_workdays", max: "max_p90_workdays" },
  };

  function relative(data, mode) {
    var spec = BANDS[mode];
    var top = data[spec.max];
    return {
      legend: ["无办结", "≤ " + quarter(top, 1), "≤ " + quarter(top, 2), "≤ " + quarter(top, 3), "≤ " + (top || 0) + " 个工作日"],
      band: function (e) {
        var value = e[spec.key];
        if (value === null || !top) { return value === null ? 0 : 1; }
        var share = value / top;
        return share <= 0.25 ? 1 : share <= 0.5 ? 2 : share <= 0.75 ? 3 : 4;
      },
    };
  }

  function quarter(top, n) {
    return Math.round(((top || 0) * n) / 4 * 10) / 10;
  }

  function percent(value) {
    return value === null ? "—" : Math.round(value * 1000) / 10 + "%";
  }

  function badge(e) {
    var box = document.createElement("div");
    box.className = "heat-badge";
    box.textContent = e.finished
      ? "均" + e.avg_workdays + " · P90 " + e.p90_workdays + " · 超期" + percent(e.overdue_share)
      : "本期无办结";
    if (e.open_steps) {
      box.textContent += " · 在办" + e.open_steps;
    }
    return box;
  }

  function paint(viewer, data, mode) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var scale = mode === "overdue" ? BANDS.overdue : relative(data, mode);
    data.elements.forEach(function (e) {
      if (!registry.get(e.id)) { return; }
      for (var n = 0; n < 5; n++) { canvas.removeMarker(e.id, "lf-heat-" + n); }
      canvas.addMarker(e.id, "lf-heat-" + scale.band(e));
    });
    var legend = document.getElementById("heat-legend");
    legend.innerHTML = "";
    scale.legend.forEach(function (text, n) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch heat-" + n;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(text));
      legend.appendChild(item);
    });
  }

  // A wide process fitted into the box is too small to read: show the steps that have figures
  // at a readable scale (the whole diagram stays one click away).
  var READABLE = 0.75;

  function focus(canvas, registry, elements) {
    canvas.zoom("fit-viewport", "auto");
    var fitted = canvas.viewbox();
    if (fitted.scale >= READABLE) { return; }
    var shown = elements
      .filter(function (e) { return e.finished || e.open_steps; })
      .map(function (e) { return registry.get(e.id); })
      .filter(function (shape) { return shape && shape.width !== undefined; });
    if (!shown.length) { return; }
    var left = Math.min.apply(null, shown.map(function (s) { return s.x; }));
    var top = Math.min.apply(null, shown.map(function (s) { return s.y; }));
    var right = Math.max.apply(null, shown.map(function (s) { return s.x + s.width; }));
    var bottom = Math.max.apply(null, shown.map(function (s) { return s.y + s.height; }));
    var width = fitted.outer.width / READABLE;
    var height = fitted.outer.height / READABLE;
    canvas.viewbox({
      x: Math.min(left - 40, (left + right) / 2 - width / 2),
      y: (top + bottom) / 2 - height / 2,
      width: width,
      height: height,
    });
  }

  async function draw(container, data) {
    var viewer = new window.BpmnJS({ container: container });
    await viewer.importXML(data.xml);
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    var links = {};
    data.elements.forEach(function (e) {
      if (!registry.get(e.id)) { return; }
      links[e.id] = e.link;
      if (e.finished || e.open_steps) {
        overlays.add(e.id, "lf-heat", { position: { bottom: -2, left: -6 }, html: badge(e) });
      }
    });
    viewer.get("eventBus").on("element.click", function (event) {
      var link = links[event.element.id];
      if (link) { window.location.href = link; }
    });
    var canvas = viewer.get("canvas");
    focus(canvas, registry, data.elements);
    var whole = document.getElementById("heat-whole");
    if (whole) {
      whole.hidden = false;
      whole.addEventListener("click", function () { canvas.zoom("fit-viewport", "auto"); });
    }
    var choice = document.querySelector("input[name=heat-mode]:checked");
    paint(viewer, data, choice ? choice.value : "overdue");
    document.querySelectorAll("input[name=heat-mode]").forEach(function (input) {
      input.addEventListener("change", function () { paint(viewer, data, input.value); });
    });
    container.dataset.rendered = "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("heatmap");
    var source = document.getElementById("heatmap-data");
    if (!container || !source) { return; }
    var status = container.querySelector(".diagram-status");
    if (!window.BpmnJS) {
      status.textContent = "流程图组件未能加载，请查看下方表格。";
      return;
    }
    draw(container, JSON.parse(source.textContent)).then(function () {
      if (status) { status.remove(); }
    }).catch(function () {
      container.dataset.rendered = "failed";
      status.textContent = "流程图暂时无法显示，请查看下方表格。";
    });
  });
})();
