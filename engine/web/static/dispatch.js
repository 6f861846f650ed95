// The dispatch dashboard's charts: Apache ECharts (served from /static/vendor, built by
// `make install`) draws the bar charts described in the page's JSON block #dispatch-charts;
// every bar opens the cases behind it (the link the server put beside its value).
(function () {
  "use strict";

  function option(spec) {
    var horizontal = !!spec.horizontal;
    var unit = spec.unit || "";
    var categoryAxis = {
      type: "category",
      data: spec.categories,
      axisLabel: { interval: 0, width: horizontal ? 180 : 110, overflow: "truncate" },
    };
    var valueAxis = { type: "value", minInterval: unit === "个工作日" || unit === "%" ? 0 : 1 };
    return {
      animation: false,
      color: spec.series.map(function (s) { return s.color; }),
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: function (value) { return value === null ? "—" : value + (unit === "%" ? "%" : ""); },
      },
      legend: spec.series.length > 1 ? { top: 0 } : undefined,
      grid: { left: 8, right: 24, top: spec.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? Object.assign({ inverse: true }, categoryAxis) : valueAxis,
      series: spec.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          data: s.values,
          barMaxWidth: 28,
          cursor: "pointer",
          label: { show: true, position: horizontal ? "right" : "top", formatter: function (p) {
            return p.value ? p.value + (unit === "%" ? "%" : "") : "";
          } },
        };
      }),
    };
  }

  function draw(spec) {
    var box = document.getElementById(spec.id);
    if (!box) {
      return null;
    }
    if (!spec.categories.length) {
      box.classList.add("chart-empty");
      box.textContent = "暂无数据";
      return null;
    }
    var chart = window.echarts.init(box, null, { renderer: "canvas", locale: "ZH" });
    chart.on("finished", function () {
      box.dataset.rendered = "true";
    });
    chart.on("click", function (params) {
      var series = spec.series[params.seriesIndex];
      var link = series && series.links[params.dataIndex];
      if (link) {
        window.location.href = link;
      }
    });
    chart.setOption(option(spec));
    return chart;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("dispatch-charts");
    if (!source) {
      return;
    }
    if (!window.echarts) {
      document.querySelectorAll(".chart").forEach(function (box) {
        box.classList.add("chart-empty");
        box.textContent = "图表组件未能加载，请查看下方表格。";
      });
      return;
    }
    var charts = JSON.parse(source.textContent).charts.map(draw).filter(Boolean);
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  });
})();
