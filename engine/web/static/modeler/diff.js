// The version comparison: both versions drawn side by side (bpmn-js viewer); on the new one
// added elements are green and changed ones orange, on the old one removed elements are red
// and changed ones orange. The list below names every change; clicking a row shows it.
(function () {
  "use strict";

  async function draw(container, xml, marks) {
    var viewer = new window.BpmnJS({ container: container });
    await viewer.importXML(xml);
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    canvas.zoom("fit-viewport", "auto");
    Object.keys(marks).forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, "lf-diff-" + marks[id]);
      }
    });
    return viewer;
  }

  function marks(list, kind, into) {
    list.forEach(function (e) { into[e.id] = kind; });
    return into;
  }

  // Show the given elements as large as fits (at most natural size), centred.
  function focusOn(viewer, ids) {
    var registry = viewer.get("elementRegistry");
    var points = [];
    ids.forEach(function (id) {
      var shape = registry.get(id);
      if (!shape) {
        return;
      }
      if (shape.waypoints) {
        points = points.concat(shape.waypoints);
      } else {
        points.push({ x: shape.x, y: shape.y }, { x: shape.x + shape.width, y: shape.y + shape.height });
      }
    });
    if (!points.length) {
      return false;
    }
    var xs = points.map(function (p) { return p.x; });
    var ys = points.map(function (p) { return p.y; });
    var left = Math.min.apply(null, xs) - 80;
    var top = Math.min.apply(null, ys) - 80;
    var width = Math.max.apply(null, xs) + 80 - left;
    var height = Math.max.apply(null, ys) + 80 - top;
    var canvas = viewer.get("canvas");
    var outer = canvas.viewbox().outer;
    var scale = Math.min(1, outer.width / width, outer.height / height);
    canvas.viewbox({
      x: left + width / 2 - outer.width / scale / 2,
      y: top + height / 2 - outer.height / scale / 2,
      width: outer.width / scale,
      height: outer.height / scale,
    });
    return true;
  }

  function show(viewers, id) {
    viewers.forEach(function (viewer) { focusOn(viewer, [id]); });
  }

  document.addEventListener("DOMContentLoaded", async function () {
    var root = document.getElementById("version-diff");
    var data = document.getElementById("diff-data");
    if (!root || !data) {
      return;
    }
    if (!window.BpmnJS) {
      document.getElementById("diff-summary").append("（流程图组件未能加载）");
      return;
    }
    var diff = JSON.parse(data.textContent);
    var changed = marks(diff.changed, "changed", {});
    try {
      var viewers = await Promise.all([
        draw(document.getElementById("diff-base"), diff.base_xml,
          marks(diff.removed, "removed", Object.assign({}, changed))),
        draw(document.getElementById("diff-target"), diff.target_xml,
          marks(diff.added, "added", Object.assign({}, changed))),
      ]);
      var all = Object.keys(marks(diff.added, "added", marks(diff.removed, "removed", Object.assign({}, changed))));
      viewers.forEach(function (viewer) { focusOn(viewer, all); });
      document.querySelectorAll(".diff-list tr[data-element]").forEach(function (row) {
        row.addEventListener("click", function () { show(viewers, row.dataset.element); });
      });
      root.dataset.rendered = "true";
    } catch (e) {
      root.dataset.rendered = "failed";
      document.getElementById("diff-summary").append("（流程图无法显示：" + e.message + "）");
    }
  });
})();
