/* The dashboard (统计看板): fetch the figures as JSON and draw them.
 * Text from tickets only ever goes into the page as text (textContent) or into
 * ECharts with tooltips drawn on the canvas (renderMode richText), never as HTML. */
(function () {
  "use strict";

  var TOP = 8; // series beyond these are summed as 其他, so a chart stays readable
  var root = document.getElementById("dashboard");
  var statusLine = document.getElementById("dashboard-status");
  var charts = {};
  var figures = null;
  // The page's words in the reader's language, from the server (data-texts).
  var T = JSON.parse(root.dataset.texts || "{}");

  function say(key, values) {
    return (T[key] || key).replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }

  function chart(id) {
    if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
    return charts[id];
  }

  function text(id, value) { document.getElementById(id).textContent = String(value); }

  function ticketLink(number) {
    var a = document.createElement("a");
    a.href = root.dataset.ticketUrl.replace("TICKET", encodeURIComponent(number));
    a.textContent = number;
    return a;
  }

  function topSeries(series) {
    var top = series.slice(0, TOP);
    var rest = series.slice(TOP);
    if (rest.length) {
      var counts = rest[0].counts.map(function (_, i) {
        return rest.reduce(function (sum, s) { return sum + s.counts[i]; }, 0);
      });
      top.push({ name: say("other"), counts: counts });
    }
    return top;
  }

  var tooltip = { trigger: "axis", renderMode: "richText" };

  function drawTrend() {
    var dimension = document.getElementById("dimension").value;
    var data = figures.by[dimension];
    var series = topSeries(data.series);
    chart("chart-trend").setOption({
      tooltip: tooltip,
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 40, bottom: 30 },
      xAxis: { type: "category", data: figures.days.map(function (d) { return d.slice(5); }) },
      yAxis: { type: "value", minInterval: 1 },
      series: series.map(function (s) {
        return { name: s.name, type: "bar", stack: "total", data: s.counts, emphasis: { focus: "series" } };
      })
    }, true);
    var totals = data.totals.slice(0, 15).reverse();
    chart("chart-totals").setOption({
      tooltip: { trigger: "item", renderMode: "richText" },
      grid: { left: 120, right: 30, top: 10, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: totals.map(function (t) { return t.name; }) },
      series: [{ type: "bar", data: totals.map(function (t) { return t.count; }), label: { show: true, position: "right" } }]
    }, true);
  }

  function fillDue(id, rows) {
    var body = document.querySelector("#" + id + " tbody");
    body.replaceChildren();
    if (!rows.length) {
      var empty = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 5;
      cell.className = "muted";
      cell.textContent = say("none");
      empty.appendChild(cell);
      body.appendChild(empty);
      return;
    }
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var first = document.createElement("td");
      first.appendChild(ticketLink(r.number));
      tr.appendChild(first);
      [r.status, r.which + " " + r.deadline.replace("T", " "), r.agency, r.topic].forEach(function (value) {
        var td = document.createElement("td");
        td.textContent = value;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function fillHot(groups) {
    var list = document.getElementById("hot");
    list.replaceChildren();
    if (!groups.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = say("no_hot");
      list.appendChild(none);
      return;
    }
    groups.forEach(function (g) {
      var li = document.createElement("li");
      var strong = document.createElement("strong");
      strong.textContent = say("count", { n: g.count });
      li.appendChild(strong);
      var districts = g.districts.length ? " · " + g.districts.join("、") : "";
      li.appendChild(document.createTextNode(districts + " · " + g.text));
      li.appendChild(document.createElement("br"));
      g.numbers.forEach(function (n, i) {
        if (i) li.appendChild(document.createTextNode("、"));
        li.appendChild(ticketLink(n));
      });
      list.appendChild(li);
    });
  }

  function drawMap() {
    var p = figures.places;
    var maxCount = p.districts.reduce(function (m, d) { return Math.max(m, d.count); }, 1);
    chart("chart-map").setOption({
      tooltip: { trigger: "item", renderMode: "richText" },
      grid: { left: 50, right: 20, top: 20, bottom: 40 },
      // Wheel or pinch to zoom into the urban districts, which lie close together.
      dataZoom: [{ type: "inside", xAxisIndex: 0, filterMode: "none" }, { type: "inside", yAxisIndex: 0, filterMode: "none" }],
      xAxis: { type: "value", name: say("longitude"), scale: true, min: 118.9, max: 120.8 },
      yAxis: { type: "value", name: say("latitude"), scale: true, min: 29.3, max: 30.6 },
      series: [
        {
          name: say("districts"), type: "scatter",
          data: p.districts.map(function (d) { return { name: d.name + "：" + say("count", { n: d.count }), value: [d.longitude, d.latitude, d.count] }; }),
          symbolSize: function (v) { return 12 + 38 * Math.sqrt(v[2] / maxCount); },
          itemStyle: { opacity: 0.45 },
          label: { show: true, formatter: "{b}", fontSize: 11 }
        },
        {
          name: say("tickets"), type: "scatter", symbolSize: 7,
          data: p.points.map(function (t) { return { name: t.number + " " + t.topic, value: [t.longitude, t.latitude] }; })
        }
      ]
    }, true);
  }

  function draw() {
    text("total", figures.total);
    text("overdue-count", figures.due.overdue_count);
    text("soon-count", figures.due.soon_count);
    drawTrend();
    fillDue("overdue", figures.due.overdue);
    fillDue("soon", figures.due.soon);
    fillHot(figures.hot);
    drawMap();
    statusLine.textContent = say("period", figures.period);
    root.dataset.ready = "1";
  }

  document.getElementById("dimension").addEventListener("change", function () { if (figures) drawTrend(); });
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  fetch(root.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      // An idle session ends on the server: the answer is then the login page, not figures.
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.ok && !json) throw new Error("login");
      if (!response.ok) throw new Error(response.status);
      return response.json();
    })
    .then(function (data) { figures = data; draw(); })
    .catch(function (error) {
      statusLine.textContent = error.message === "login"
        ? say("login_expired")
        : say("load_failed");
    });
})();
