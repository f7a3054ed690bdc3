// Draws the service-performance dashboard's charts (/workbench/insight)
// with Apache ECharts from the figures the page carries; the same figures
// are in the tables beside the charts, so the page reads without it.
(function () {
  'use strict';
  function draw() {
    var el = document.getElementById('insight-data');
    if (!el || !window.echarts) { return; }
    var d = JSON.parse(el.dataset.chart);
    var volume = document.getElementById('chart-volume');
    if (volume) {
      echarts.init(volume).setOption({
        tooltip: { trigger: 'axis' }, legend: {},
        xAxis: { type: 'category', data: d.labels }, yAxis: { type: 'value' },
        series: [{ name: d.names[0], type: 'bar', data: d.received }, { name: d.names[1], type: 'bar', data: d.finished }]
      });
    }
    var rates = document.getElementById('chart-rates');
    if (rates) {
      echarts.init(rates).setOption({
        tooltip: { trigger: 'axis' }, legend: {},
        xAxis: { type: 'category', data: d.labels }, yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
        series: [{ name: d.rates[0], type: 'line', data: d.online }, { name: d.rates[1], type: 'line', data: d.machine }, { name: d.rates[2], type: 'line', data: d.on_time }]
      });
    }
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', draw); } else { draw(); }
})();
