// A dispatch report's bar chart: Apache ECharts (served from /static/vendor) draws each
// area's on-time rate from the report's JSON block #report-chart-data, frozen when it was issued.
(function () {
  "use strict";

  function draw() {
    var box = document.getElementById("report-chart");
    var block = document.getElementById("report-chart-data");
    if (!box || !block || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(block.textContent);
    if (!data.categories.length) {
      box.classList.add("chart-empty");
      box.textContent = "本期无数据";
      return;
    }
    var chart = echarts.init(box);
    chart.setOption({
      animation: false,
      color: ["#3b6fd8"],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
        valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{
        name: data.title, type: "bar", data: data.values, barMaxWidth: 36,
        label: { show: true, position: "top", formatter: function (p) { return p.value === null ? "" : p.value + "%"; } },
      }],
    });
    box.setAttribute("data-rendered", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
