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
  var MAP = "hangzhou"; // the schematic district map (maps/hangzhou-districts.json), registered once loaded
  var mapData = null;

  function say(key, values) {
    return (T[key] || key).replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }

  function chart(id) {
    if (!charts[id]) charts[id] = linked(echarts.init(document.getElementById(id), null, { renderer: "canvas" }));
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
        var data = s.counts.map(function (n, i) {
          return s.day_url ? { value: n, url: s.day_url.replace(/DAY/g, figures.days[i]) } : n;
        });
        return { name: s.name, type: "bar", stack: "total", data: data, emphasis: { focus: "series" } };
      })
    }, true);
    var totals = data.totals.slice(0, 15).reverse();
    chart("chart-totals").setOption({
      tooltip: { trigger: "item", renderMode: "richText" },
      grid: { left: 120, right: 30, top: 10, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: totals.map(function (t) { return t.name; }) },
      series: [{
        type: "bar", label: { show: true, position: "right" },
        data: totals.map(function (t) { return { value: t.count, url: t.url }; })
      }]
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
      var status = document.createElement("td");
      status.textContent = r.status;
      tr.appendChild(status);
      // The deadline as a <time>, which never breaks at its hyphens (app.css).
      var due = document.createElement("td");
      var time = document.createElement("time");
      time.dateTime = r.deadline;
      time.textContent = r.deadline.replace("T", " ");
      due.append(r.which + " ", time);
      tr.appendChild(due);
      [r.agency, r.topic].forEach(function (value) {
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

  // A chart item that carries the ticket list it counts leads there when clicked.
  function linked(instance) {
    instance.on("click", function (event) {
      if (event.data && event.data.url) window.location.href = event.data.url;
    });
    return instance;
  }

  function drawMap() {
    var p = figures.places;
    var maxCount = p.districts.reduce(function (m, d) { return Math.max(m, d.count); }, 1);
    var counted = {};
    p.districts.forEach(function (d) { counted[d.name] = d; });
    var names = mapData.features.map(function (f) { return f.properties.name; });
    chart("chart-map").setOption({
      tooltip: { trigger: "item", renderMode: "richText" },
      // The districts' shade: how many tickets each has in the period.
      visualMap: {
        min: 0, max: maxCount, left: 8, bottom: 8, seriesIndex: 0, calculable: false,
        text: [String(maxCount), "0"], inRange: { color: ["#eef3fa", "#1d5fa8"] }
      },
      geo: {
        map: MAP, roam: true, scaleLimit: { min: 1, max: 8 },
        label: { show: true, fontSize: 10, color: "#333" },
        itemStyle: { areaColor: "#f3f5f7", borderColor: "#8593a3" },
        emphasis: { label: { show: true }, itemStyle: { areaColor: "#ffd27a" } }
      },
      graphic: [{ type: "text", right: 8, top: 4, style: { text: say("schematic"), fill: "#777", fontSize: 12 } }],
      series: [
        {
          name: say("districts"), type: "map", geoIndex: 0,
          data: names.map(function (name) {
            var d = counted[name];
            return d ? { name: name, value: d.count, url: d.url } : { name: name, value: 0 };
          })
        },
        {
          name: say("tickets"), type: "scatter", coordinateSystem: "geo", symbolSize: 6,
          itemStyle: { color: "#d9480f" },
          data: p.points.map(function (t) {
            return {
              name: t.number + " " + t.topic, value: [t.longitude, t.latitude],
              url: root.dataset.ticketUrl.replace("TICKET", encodeURIComponent(t.number))
            };
          })
        }
      ]
    }, true);
  }

  function percent(share) { return (share * 100).toFixed(1) + "%"; }

  function fillCompared(compared) {
    var body = document.querySelector("#compared tbody");
    body.replaceChildren();
    compared.figures.forEach(function (row) {
      var rate = row.kind === "rate";
      var shown = function (v) { return v === null ? "—" : (rate ? percent(v) : String(v)); };
      var change = "—";
      var tone = "";
      if (row.change !== null) {
        var arrow = row.change > 0 ? "▲ " : (row.change < 0 ? "▼ " : "");
        tone = row.change > 0 ? "up" : (row.change < 0 ? "down" : "");
        var size = Math.abs(row.change * 100).toFixed(1);
        change = arrow + (rate ? say("points", { n: size }) : size + "%");
      }
      var tr = document.createElement("tr");
      [row.name, shown(row.value), shown(row.before), change].forEach(function (value, i) {
        var td = document.createElement(i ? "td" : "th");
        td.textContent = value;
        if (i === 3 && tone) td.className = "change-" + tone;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    text("compared-before", say("before", compared.before));
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
    fillCompared(figures.compared);
    document.getElementById("total").href = figures.url;
    statusLine.textContent = say("period", figures.period);
    root.dataset.ready = "1";
  }

  document.getElementById("dimension").addEventListener("change", function () { if (figures) drawTrend(); });
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  function loaded(response) {
    // An idle session ends on the server: the answer is then the login page, not figures.
    var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
    if (response.ok && !json) throw new Error("login");
    if (!response.ok) throw new Error(response.status);
    return response.json();
  }

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(loaded);
  }

  Promise.all([get(root.dataset.map), get(root.dataset.source)])
    .then(function (answers) {
      mapData = answers[0];
      echarts.registerMap(MAP, mapData);
      figures = answers[1];
      draw();
    })
    .catch(function (error) {
      statusLine.textContent = error.message === "login"
        ? say("login_expired")
        : say("load_failed");
    });
})();
