// Our property panel: what Landflow reads from a diagram, edited in Chinese through bpmn-js's
// modeling API (undo/redo work): lane → department type and level; user task → form, time
// limits, return targets, required materials (panel-materials.js); timers; decision tables;
// called processes; conditions and scripts with a syntax check as you type; the process's
// start form and overall limit; and every extension property in an advanced section.
(function () {
  "use strict";

  var F = window.LfFields;
  var X = window.LfExtensions;
  var TIMER_KINDS = [
    { value: "timeDate", label: "到期时间（日期）" },
    { value: "timeDuration", label: "等待时长" },
    { value: "timeCycle", label: "重复周期" },
  ];
  var GATEWAYS = ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway", "bpmn:ComplexGateway"];

  function is(bo, type) {
    return !!bo && typeof bo.$instanceOf === "function" && bo.$instanceOf(type);
  }

  function Panel(modeler, container, context) {
    this.modeler = modeler;
    this.container = container;
    this.context = context; // {choices, materials, processId, openDecision}
    this.ext = new X.Extensions(modeler);
    this.modeling = modeler.get("modeling");
    this.registry = modeler.get("elementRegistry");
    this.element = null;
    // Whether a change comes from the panel itself (it must not redraw under the user's
    // hands, e.g. while the focus moves from one field to the next).
    this.busy = false;
    var self = this;
    ["change", "click", "input"].forEach(function (type) {
      container.addEventListener(type, function () {
        self.busy = true;
        setTimeout(function () { self.busy = false; }, 0);
      }, true);
    });
  }

  // Redraw after a change made elsewhere (undo, editing a label on the canvas).
  Panel.prototype.refresh = function () {
    if (this.busy || this.container.contains(document.activeElement) || !this.element) {
      return;
    }
    this.render(this.registry.get(this.element.id) || null);
  };

  Panel.prototype.render = function (element) {
    this.element = element || this.modeler.get("canvas").getRootElement();
    var element_ = this.element;
    var bo = element_.businessObject;
    var parts = [];
    parts.push(this.identity(element_, bo));
    if (is(bo, "bpmn:Participant") && bo.processRef) {
      parts.push(this.processSection(element_, bo.processRef));
    } else if (is(bo, "bpmn:Process")) {
      parts.push(this.processSection(element_, bo));
    } else if (is(bo, "bpmn:Collaboration")) {
      parts.push(F.note("选中池（流程）以编辑流程属性：是否可执行、发起表单、办理总时限。"));
    }
    if (is(bo, "bpmn:Lane")) {
      parts.push(this.laneSection(element_, bo));
    }
    if (is(bo, "bpmn:UserTask") || is(bo, "bpmn:ManualTask")) {
      parts.push(this.taskSection(element_, bo));
    }
    if (is(bo, "bpmn:BusinessRuleTask")) {
      parts.push(this.decisionSection(element_, bo));
    }
    if (is(bo, "bpmn:CallActivity")) {
      parts.push(this.callSection(element_, bo));
    }
    if (is(bo, "bpmn:ScriptTask")) {
      parts.push(this.scriptSection(element_, bo));
    }
    if (is(bo, "bpmn:SequenceFlow")) {
      parts.push(this.flowSection(element_, bo));
    }
    if (GATEWAYS.some(function (t) { return is(bo, t); })) {
      parts.push(this.gatewaySection(element_, bo));
    }
    var timer = (bo.eventDefinitions || []).find(function (d) {
      return is(d, "bpmn:TimerEventDefinition");
    });
    if (timer) {
      parts.push(this.timerSection(element_, timer));
    }
    if (bo.id && !is(bo, "bpmn:Collaboration") && !is(bo, "bpmn:Association")) {
      var target = is(bo, "bpmn:Participant") && bo.processRef ? bo.processRef : bo;
      parts.push(this.advancedSection(element_, target));
    }
    this.container.replaceChildren.apply(this.container, parts.filter(Boolean));
  };

  Panel.prototype.identity = function (element, bo) {
    var self = this;
    var type = window.LandflowZh.translate(typeLabel(bo));
    var children = [F.note(type + " · 标识 " + (bo.id || "—"), "panel-type")];
    if (!is(bo, "bpmn:Collaboration") && !is(bo, "bpmn:Process")) {
      children.push(
        F.text("名称", bo.name || "", function (value) {
          self.modeling.updateLabel(element, value);
        }, { name: "name", maxLength: 300 })
      );
    }
    return F.section("基本信息", children);
  };

  Panel.prototype.processSection = function (element, process) {
    var self = this;
    var props = X.properties(process);
    var forms = this.formOptions();
    return F.section("流程", [
      F.text("流程名称", process.name || "", function (value) {
        self.modeling.updateModdleProperties(element, process, { name: value });
      }, { name: "process-name" }),
      F.checkbox("可执行（可部署、可发起办件）", process.isExecutable !== false, function (checked) {
        self.modeling.updateModdleProperties(element, process, { isExecutable: checked });
      }, { name: "isExecutable", hint: "未勾选的流程只是说明性的图，不能部署。" }),
      F.select("发起表单", forms, props.startFormKey || "", function (value) {
        self.ext.setProperties(element, process, { startFormKey: value });
      }, { name: "startFormKey", empty: "（无发起表单）" }),
      F.limit("办理总时限", props.sla_overall || "", function (value) {
        self.ext.setProperties(element, process, { sla_overall: value });
      }, { name: "sla_overall", hint: "整个办件从发起到办结的时限；时限表中有规则时以时限表为准。" }),
    ]);
  };

  Panel.prototype.laneSection = function (element, lane) {
    var self = this;
    var props = X.properties(lane);
    var choices = this.context.choices;
    return F.section("泳道：办理部门", [
      F.select("部门类型", choices.department_types.map(function (d) {
        return { value: d.code, label: d.name };
      }), props.dept_type || "", function (value) {
        self.ext.setProperties(element, lane, { dept_type: value });
      }, { name: "dept_type" }),
      F.select("层级", choices.levels.map(function (l) {
        return { value: l.code, label: l.name };
      }), props.level || "", function (value) {
        self.ext.setProperties(element, lane, { level: value });
      }, { name: "level" }),
      F.note("泳道中的人工环节派发给办件所在区划之上、该层级的此类部门（如宗地在婺城区，县级自然资源和规划局即婺城区自然资源和规划局）。"),
    ]);
  };

  Panel.prototype.taskSection = function (element, task) {
    var self = this;
    var props = X.properties(task);
    var set = function (name) {
      return function (value) {
        var change = {};
        change[name] = value;
        self.ext.setProperties(element, task, change);
      };
    };
    var formField = F.select("表单", this.formOptions(), props.formKey || "", set("formKey"), {
      name: "formKey",
      empty: "（请选择表单）",
    });
    if (props.formKey) {
      formField.appendChild(F.el("a", {
        href: "/modeler/forms/" + encodeURIComponent(props.formKey),
        target: "_blank",
        text: "编辑此表单",
      }));
    }
    var others = this.registry
      .filter(function (e) {
        return e.id !== element.id && e.type !== "label" &&
          (is(e.businessObject, "bpmn:UserTask") || is(e.businessObject, "bpmn:ManualTask"));
      })
      .map(function (e) {
        return { value: e.id, label: (e.businessObject.name || e.id) + "（" + e.id + "）" };
      });
    var targets = (props.return_to || "").split(/[\s,;，、]+/).filter(Boolean);
    var parts = [
      this.departmentNote(task, props),
      formField,
      F.limit("承诺时限", props.sla_committed || "", set("sla_committed"), {
        name: "sla_committed",
        hint: "本部门承诺的办理时限，不长于法定时限。",
      }),
      F.limit("法定时限", props.sla_statutory || "", set("sla_statutory"), {
        name: "sla_statutory",
        hint: "法律法规规定的时限（没有则不填）。",
      }),
      F.area("时限依据", props.sla_basis || "", set("sla_basis"), {
        name: "sla_basis",
        rows: 2,
        hint: "法律依据或时限来由，办理页面向经办人显示（不超过 300 字）。",
      }),
      F.text("黄灯阈值", props.sla_yellow || "", set("sla_yellow"), {
        name: "sla_yellow",
        placeholder: "如 1wd（剩余 1 个工作日）或 80%",
        hint: "不填则用系统默认值。",
      }),
      F.checklist("可退回到", others, targets, function (chosen) {
        self.ext.setProperties(element, task, { return_to: chosen.join(", ") });
      }, { name: "return_to", none: "图中没有其他人工环节" }),
      window.LfMaterials.section(this, element, task),
    ];
    return F.section("人工环节", parts);
  };

  Panel.prototype.departmentNote = function (task, props) {
    var explicit = ["dept_types_from", "dept_type_from", "departments_from", "department_from"]
      .filter(function (key) { return props[key]; });
    if (explicit.length) {
      return F.note("办理部门由变量 " + props[explicit[0]] + " 决定（" + explicit[0] + "）。");
    }
    var lane = (task.lanes || [])[0];
    if (!lane) {
      return F.note("此环节不在任何泳道中：请把它放入一条设置了部门类型的泳道。", "error");
    }
    var laneProps = X.properties(lane);
    var type = this.context.choices.department_types.find(function (d) {
      return d.code === laneProps.dept_type;
    });
    var level = this.context.choices.levels.find(function (l) { return l.code === laneProps.level; });
    var text = "办理部门（由所在泳道“" + (lane.name || lane.id) + "”决定）：" +
      (level ? level.name + "级" : "层级未设置") + (type ? type.name : "部门类型未设置");
    return F.note(text, "panel-department");
  };

  Panel.prototype.decisionSection = function (element, task) {
    var self = this;
    var current = X.extensionText(task, "calledDecisionId");
    var options = this.context.choices.decisions.map(function (d) {
      return { value: d.id, label: d.name + "（" + d.id + "）" };
    });
    var picker = F.select("决策表", options, current, function (value) {
      self.ext.setText(element, task, "calledDecisionId", value);
      self.render(element);
    }, { name: "calledDecisionId", empty: "（请选择决策表）" });
    if (current) {
      var open = F.el("button", { type: "button", className: "small", text: "打开决策表" });
      open.addEventListener("click", function () { self.context.openDecision(current); });
      picker.appendChild(open);
    }
    return F.section("业务规则（决策表）", [
      picker,
      F.note("决策表的输出写入办件数据，供后续条件和脚本读取。"),
    ]);
  };

  Panel.prototype.callSection = function (element, call) {
    var self = this;
    var options = this.context.choices.processes
      .filter(function (p) { return p.id !== self.context.processId; })
      .map(function (p) { return { value: p.id, label: p.name + "（" + p.id + "）" }; });
    return F.section("调用流程", [
      F.select("被调用的流程", options, call.calledElement || "", function (value) {
        self.modeling.updateProperties(element, { calledElement: value || undefined });
      }, { name: "calledElement", empty: "（请选择流程）" }),
      F.note("被调用的流程读取本办件的数据，办结后把结果带回。"),
    ]);
  };

  Panel.prototype.scriptSection = function (element, task) {
    var self = this;
    return F.section("脚本", [
      F.expression("脚本", task.script || "", "exec", function (value) {
        var change = { script: value || undefined };
        if (!task.scriptFormat) {
          change.scriptFormat = "python";
        }
        self.modeling.updateProperties(element, change);
      }, { name: "script", hint: "受限的 Python 写法：赋值写入办件数据；不能 import、定义函数或使用 eval。" }),
    ]);
  };

  Panel.prototype.flowSection = function (element, flow) {
    var self = this;
    var source = flow.sourceRef;
    var parts = [];
    var fromGateway = GATEWAYS.some(function (t) { return is(source, t); });
    var isDefault = !!source && source.default === flow;
    if (fromGateway || flow.conditionExpression) {
      parts.push(F.expression("条件", (flow.conditionExpression && flow.conditionExpression.body) || "", "eval", function (value) {
        self.modeling.updateProperties(element, { conditionExpression: self.ext.expression(value) });
      }, {
        name: "condition",
        optional: isDefault,
        hint: "例如 precheck_result == \"符合\"；读取表单字段和办件数据，结果为真时走这条流向。",
      }));
    }
    if (fromGateway) {
      parts.push(F.checkbox("默认流向（其他条件都不满足时）", isDefault, function (checked) {
        var gateway = self.registry.get(source.id);
        self.modeling.updateProperties(gateway, { default: checked ? flow : undefined });
        self.render(element);
      }, { name: "default" }));
    }
    if (!parts.length) {
      parts.push(F.note("普通顺序流，无需设置。"));
    }
    return F.section("流向", parts);
  };

  Panel.prototype.gatewaySection = function (element, gateway) {
    var self = this;
    var outgoing = gateway.outgoing || [];
    var options = outgoing.map(function (flow) {
      var target = flow.targetRef || {};
      return { value: flow.id, label: (flow.name || "流向") + " → " + (target.name || target.id) };
    });
    return F.section("网关", [
      F.select("默认流向", options, gateway.default ? gateway.default.id : "", function (value) {
        var flow = outgoing.find(function (f) { return f.id === value; });
        self.modeling.updateProperties(element, { default: flow || undefined });
      }, { name: "default-flow", empty: "（无默认流向）" }),
      F.note("排他网关须有默认流向，或各条件覆盖全部情况（校验时检查）。"),
    ]);
  };

  Panel.prototype.timerSection = function (element, timer) {
    var self = this;
    var kind = TIMER_KINDS.map(function (k) { return k.value; }).find(function (k) {
      return timer[k];
    }) || "timeDate";
    var text = timer[kind] ? timer[kind].body || "" : "";
    var write = function (newKind, value) {
      var change = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      change[newKind] = self.ext.expression(value);
      self.modeling.updateModdleProperties(element, timer, change);
    };
    var expression = F.expression("时间表达式", text, "eval", function (value) {
      write(kind, value);
    }, {
      name: "timer",
      hint: "workdays(n)：n 个工作日后的当日 24 时（跳过周末和法定节假日，计入调休上班日）；days(n)：n 个自然日后（遇节假日顺延）；时长写作 \"P5D\"，周期写作 \"R/P1M\"；也可以是保存了日期时间的变量。",
    });
    var helpers = F.el("div", { className: "pf-helpers" });
    [["5 个工作日后", "workdays(5)"], ["10 个工作日后", "workdays(10)"], ["15 个自然日后", "days(15)"]]
      .forEach(function (pair) {
        var button = F.el("button", { type: "button", className: "small secondary", text: pair[0] });
        button.addEventListener("click", function () {
          if (kind !== "timeDate") {
            kind = "timeDate";
          }
          expression.insertText(pair[1]);
        });
        helpers.appendChild(button);
      });
    return F.section("定时", [
      F.select("定时方式", TIMER_KINDS, kind, function (value) {
        kind = value || "timeDate";
        write(kind, expression.querySelector("textarea").value);
      }, { name: "timer-kind", empty: "（请选择）" }),
      expression,
      helpers,
    ]);
  };

  Panel.prototype.advancedSection = function (element, bo) {
    var self = this;
    var props = X.properties(bo);
    var table = F.el("table", { className: "pf-props" });
    Object.keys(props).forEach(function (name) {
      var value = F.el("input", { type: "text", value: props[name], "aria-label": name });
      value.addEventListener("change", function () {
        var change = {};
        change[name] = value.value;
        self.ext.setProperties(element, bo, change);
      });
      var remove = F.el("button", { type: "button", className: "small secondary", text: "删除" });
      remove.addEventListener("click", function () {
        var change = {};
        change[name] = "";
        self.ext.setProperties(element, bo, change);
        self.render(element);
      });
      table.appendChild(F.el("tr", {}, [
        F.el("th", { text: name }),
        F.el("td", {}, [value]),
        F.el("td", {}, [remove]),
      ]));
    });
    var newName = F.el("input", { type: "text", placeholder: "属性名", "aria-label": "新属性名" });
    var newValue = F.el("input", { type: "text", placeholder: "值", "aria-label": "新属性值" });
    var add = F.el("button", { type: "button", className: "small", text: "添加" });
    add.addEventListener("click", function () {
      var name = newName.value.trim();
      if (!name) {
        return;
      }
      var change = {};
      change[name] = newValue.value;
      self.ext.setProperties(element, bo, change);
      self.render(element);
    });
    return F.section("全部扩展属性（高级）", [
      table,
      F.el("div", { className: "pf-add" }, [newName, newValue, add]),
      F.note("spiffworkflow:property 名称与值，例如 merge:opinions = list、collect = by_item、dept_types_from = review_dept_types。"),
    ], { collapsed: true });
  };

  Panel.prototype.formOptions = function () {
    return this.context.choices.forms.map(function (f) {
      return { value: f.key, label: f.title + "（" + f.key + "）" };
    });
  };

  function typeLabel(bo) {
    var names = {
      "bpmn:UserTask": "User task",
      "bpmn:ManualTask": "Manual task",
      "bpmn:ScriptTask": "Script task",
      "bpmn:BusinessRuleTask": "Business rule task",
      "bpmn:ServiceTask": "Service task",
      "bpmn:SendTask": "Send task",
      "bpmn:ReceiveTask": "Receive task",
      "bpmn:CallActivity": "Call activity",
      "bpmn:SubProcess": "Sub-process",
      "bpmn:Task": "Task",
      "bpmn:StartEvent": "Start event",
      "bpmn:EndEvent": "End event",
      "bpmn:BoundaryEvent": "Boundary event",
      "bpmn:IntermediateCatchEvent": "Intermediate catch event",
      "bpmn:IntermediateThrowEvent": "Intermediate throw event",
      "bpmn:ExclusiveGateway": "Exclusive gateway",
      "bpmn:ParallelGateway": "Parallel gateway",
      "bpmn:InclusiveGateway": "Inclusive gateway",
      "bpmn:EventBasedGateway": "Event-based gateway",
      "bpmn:SequenceFlow": "Sequence flow",
      "bpmn:Participant": "池（流程）",
      "bpmn:Lane": "泳道",
      "bpmn:Process": "流程",
      "bpmn:Collaboration": "协作图",
      "bpmn:TextAnnotation": "注释",
    };
    return names[bo.$type] || bo.$type.replace("bpmn:", "");
  }

  window.LfPanel = Panel;
})();
