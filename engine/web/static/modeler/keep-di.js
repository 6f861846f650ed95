// Keeps the layout of what the modeler does not draw. On export bpmn-js rebuilds each
// diagram's list of shapes and edges from what is on the canvas, so DI it never drew is
// dropped: shapes of a process that has no pool in the collaboration, edges that name no
// element. This module notes such DI when a diagram is imported and puts it back before every
// export, so a round trip through the modeler loses no layout.
(function () {
  "use strict";

  function KeepUnrenderedDi(eventBus, elementRegistry, bpmnjs) {
    var kept = [];

    eventBus.on("import.done", function () {
      kept = [];
      var drawn = new Set();
      elementRegistry.getAll().forEach(function (element) {
        if (element.di) {
          drawn.add(element.di);
        }
      });
      var definitions = bpmnjs.getDefinitions();
      ((definitions && definitions.diagrams) || []).forEach(function (diagram) {
        var plane = diagram.plane;
        ((plane && plane.planeElement) || []).forEach(function (di) {
          if (!drawn.has(di)) {
            kept.push({ plane: plane, di: di });
          }
        });
      });
    });

    // after bpmn-js has rebuilt the lists (it does so at a higher priority)
    eventBus.on("saveXML.start", 500, function () {
      kept.forEach(function (entry) {
        var list = entry.plane.get("planeElement");
        if (list.indexOf(entry.di) === -1) {
          list.push(entry.di);
        }
      });
    });
  }

  KeepUnrenderedDi.$inject = ["eventBus", "elementRegistry", "bpmnjs"];

  window.LandflowKeepDi = {
    __init__: ["keepUnrenderedDi"],
    keepUnrenderedDi: ["type", KeepUnrenderedDi],
  };
})();
