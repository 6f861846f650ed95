// Our extension properties in the diagram (spiffworkflow:property name/value pairs, and
// spiffworkflow:calledDecisionId), read from and written through bpmn-js's modeling API so
// that every change can be undone. The spiffworkflow namespace has no moddle descriptor here:
// bpmn-js keeps such elements as generic elements, which is also what keeps unknown
// extensions of other tools intact on export.
(function () {
  "use strict";

  var SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core";

  function isSpiff(value, localName) {
    var descriptor = value && value.$descriptor;
    if (descriptor && descriptor.ns && descriptor.ns.uri === SPIFF_NS) {
      return descriptor.ns.localName === localName;
    }
    return !!value && value.$type === "spiffworkflow:" + localName;
  }

  function values(bo) {
    return (bo && bo.extensionElements && bo.extensionElements.values) || [];
  }

  function properties(bo) {
    var found = {};
    values(bo).forEach(function (holder) {
      if (!isSpiff(holder, "properties")) {
        return;
      }
      (holder.$children || []).forEach(function (child) {
        if (isSpiff(child, "property") && child.name) {
          found[child.name] = child.value === undefined ? "" : String(child.value);
        }
      });
    });
    return found;
  }

  function extensionText(bo, localName) {
    var holder = values(bo).find(function (v) { return isSpiff(v, localName); });
    return holder ? String(holder.$body || "").trim() : "";
  }

  function Extensions(modeler) {
    this.modeler = modeler;
    this.moddle = modeler.get("moddle");
    this.modeling = modeler.get("modeling");
    this.factory = modeler.get("bpmnFactory");
  }

  Extensions.prototype.any = function (localName, attrs) {
    return this.moddle.createAny("spiffworkflow:" + localName, SPIFF_NS, attrs || {});
  };

  // Replace the extension values of `bo` (drawn as `element`) in one undoable command.
  Extensions.prototype.setValues = function (element, bo, next) {
    if (!next.length) {
      if (bo.extensionElements) {
        this.modeling.updateModdleProperties(element, bo, { extensionElements: undefined });
      }
      return;
    }
    if (bo.extensionElements) {
      this.modeling.updateModdleProperties(element, bo.extensionElements, { values: next });
    } else {
      var extension = this.factory.create("bpmn:ExtensionElements", { values: next });
      extension.$parent = bo;
      this.modeling.updateModdleProperties(element, bo, { extensionElements: extension });
    }
  };

  // changes: {name: value}; an empty value removes the property. Order is kept.
  Extensions.prototype.setProperties = function (element, bo, changes) {
    var self = this;
    var current = values(bo);
    var index = current.findIndex(function (v) { return isSpiff(v, "properties"); });
    var holder = index >= 0 ? current[index] : null;
    var entries = [];
    var others = [];
    ((holder && holder.$children) || []).forEach(function (child) {
      if (isSpiff(child, "property") && child.name) {
        entries.push([child.name, child.value === undefined ? "" : String(child.value)]);
      } else {
        others.push(child);
      }
    });
    Object.keys(changes).forEach(function (name) {
      var value = changes[name] === null || changes[name] === undefined ? "" : String(changes[name]);
      var at = entries.findIndex(function (e) { return e[0] === name; });
      if (value === "") {
        if (at >= 0) {
          entries.splice(at, 1);
        }
      } else if (at >= 0) {
        entries[at] = [name, value];
      } else {
        entries.push([name, value]);
      }
    });
    var next = current.slice();
    if (entries.length || others.length) {
      var replaced = self.any("properties");
      replaced.$children = entries
        .map(function (e) { return self.any("property", { name: e[0], value: e[1] }); })
        .concat(others);
      if (index >= 0) {
        next[index] = replaced;
      } else {
        next.push(replaced);
      }
    } else if (index >= 0) {
      next.splice(index, 1);
    }
    this.setValues(element, bo, next);
  };

  Extensions.prototype.setText = function (element, bo, localName, text) {
    var current = values(bo);
    var index = current.findIndex(function (v) { return isSpiff(v, localName); });
    var next = current.slice();
    if (text) {
      var replaced = this.any(localName);
      replaced.$body = text;
      if (index >= 0) {
        next[index] = replaced;
      } else {
        next.unshift(replaced);
      }
    } else if (index >= 0) {
      next.splice(index, 1);
    }
    this.setValues(element, bo, next);
  };

  // A bpmn:FormalExpression for conditions and timers (undefined for an empty text).
  Extensions.prototype.expression = function (text) {
    return text ? this.factory.create("bpmn:FormalExpression", { body: text }) : undefined;
  };

  window.LfExtensions = {
    SPIFF_NS: SPIFF_NS,
    Extensions: Extensions,
    properties: properties,
    extensionText: extensionText,
  };
})();
