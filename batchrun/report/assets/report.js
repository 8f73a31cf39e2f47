/* batchrun's HTML report: draws the header, plots, table and failures from the JSON block.
 *
 * Every piece of user data (names, parameters, results, errors, links) goes into the page
 * as text (textContent, never innerHTML); plot tooltips are built as elements the same way.
 * Plots are drawn when they come near the screen. After drawing, each plot says how many
 * marks and points it shows (data-marks, data-points); the page root says it is ready
 * (data-ready, data-ready-ms) once the header, the table and the plots on screen are drawn.
 */
(function () {
  "use strict";

  var TABLE_PAGE = 200;
  var FAILED_SHOWN = 200;
  var MAX_GROUPS = 12;
  var NEAR_PX = 200;
  var LARGE = 2000;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var root = document.getElementById("report");
  var points = data.points;
  var failedStates = new Set(data.failed_states);
  var done = [];
  points.forEach(function (point, index) { if (point.state === "Completed") done.push(index); });
  var charts = [];
  var PALETTE = ["#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5",
    "#9c6b4e", "#9498a0", "#1b9e77", "#d95f02"];
  var SEQUENTIAL = ["#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c"];

  // -- small helpers --------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function fmt(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function short(value) {
    return String(Number(value.toPrecision(3)));
  }

  function seconds(value) {
    if (!isNumber(value)) return "";
    if (value < 1) return short(value * 1000) + " ms";
    if (value < 120) return short(value) + " s";
    if (value < 7200) return (value / 60).toFixed(1) + " min";
    return (value / 3600).toFixed(1) + " h";
  }

  function valueOf(point, name) {
    if (Object.prototype.hasOwnProperty.call(point.params, name)) return point.params[name];
    if (name === "duration_s") return point.duration;
    if (Object.prototype.hasOwnProperty.call(point.result, name)) return point.result[name];
    return null;
  }

  function stateClass(state) {
    return "state state-" + String(state).toLowerCase().replace(/[^a-z0-9]+/g, "-");
  }

  function safeHref(href) {
    try {
      var url = new URL(href, document.baseURI);
      return ["http:", "https:", "file:"].indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function pairs(list, entries) {
    entries.forEach(function (entry) {
      list.appendChild(el("dt", null, entry[0]));
      list.appendChild(el("dd", null, fmt(entry[1])));
    });
    return list;
  }

  /* The tooltip of one point: its name, parameters and result, as elements. */
  function pointTip(index) {
    var point = points[index];
    var tip = el("div", "tip");
    tip.appendChild(el("strong", null, point.name));
    var list = el("dl");
    pairs(list, Object.entries(point.params));
    pairs(list, Object.entries(point.result));
    if (isNumber(point.duration)) pairs(list, [["duration", seconds(point.duration)]]);
    tip.appendChild(list);
    return tip;
  }

  function textTip(lines) {
    var tip = el("div", "tip");
    lines.forEach(function (line) { tip.appendChild(el("div", null, line)); });
    return tip;
  }

  // -- header ----------------------------------------------------------------------------

  function header() {
    var head = data.header;
    var box = el("header");
    box.appendChild(el("h1", null, head.batch));
    var facts = el("dl", "facts");
    var when = head.generated_at ? new Date(head.generated_at) : null;
    pairs(facts, [
      ["step", head.step], ["run", head.run], ["revision", head.revision === null ? "—" : head.revision],
      ["when", when ? when.toLocaleString() : ""], ["wall time", seconds(head.wall_time_s) || "—"],
      ["points", head.points],
    ]);
    box.appendChild(facts);
    var bar = el("div", "bar");
    bar.setAttribute("role", "img");
    var legend = el("ul", "legend");
    head.summary.forEach(function (entry) {
      var segment = el("span", stateClass(entry[0]));
      segment.style.flexGrow = String(entry[1]);
      segment.title = entry[0] + ": " + entry[1];
      bar.appendChild(segment);
      var item = el("li");
      item.appendChild(el("span", stateClass(entry[0]) + " swatch"));
      item.appendChild(document.createTextNode(entry[0] + " " + entry[1]));
      legend.appendChild(item);
    });
    bar.setAttribute("aria-label", head.summary.map(function (e) { return e[0] + " " + e[1]; }).join(", "));
    box.appendChild(bar);
    box.appendChild(legend);
    return box;
  }

  // -- plots -----------------------------------------------------------------------------

  function numericValues(name) {
    return done.every(function (index) {
      var value = valueOf(points[index], name);
      return value === null || isNumber(value);
    });
  }

  function distinct(values) {
    var seen = new Map();
    values.forEach(function (value) { if (!seen.has(fmt(value))) seen.set(fmt(value), value); });
    var list = Array.from(seen.values());
    if (list.every(isNumber)) list.sort(function (a, b) { return a - b; });
    return list;
  }

  function axis(name, numeric, log) {
    return {
      type: log ? "log" : numeric ? "value" : "category", name: name, nameLocation: "middle", nameGap: 30,
      scale: true, axisLabel: { hideOverlap: true },
    };
  }

  /* Colour groups: one series per value of spec.color (up to MAX_GROUPS values). */
  function groupsOf(spec, rows) {
    if (!spec.color) return [{ name: "", rows: rows }];
    var values = distinct(rows.map(function (row) { return valueOf(points[row[2]], spec.color); }));
    if (values.length > MAX_GROUPS) return [{ name: "", rows: rows }];
    return values.map(function (value) {
      return {
        name: spec.color + " = " + fmt(value),
        rows: rows.filter(function (row) { return fmt(valueOf(points[row[2]], spec.color)) === fmt(value); }),
      };
    });
  }

  /* A continuous colour scale over the numbers at `dimension` of each data item. */
  function colorScale(dimension, values, name) {
    return {
      type: "continuous", dimension: dimension, min: Math.min.apply(null, values), max: Math.max.apply(null, values),
      calculable: true, right: 0, top: "middle", itemHeight: 180, formatter: fmt, text: [name, ""],
      inRange: { color: SEQUENTIAL },
    };
  }

  function scatter(spec) {
    var xNumeric = numericValues(spec.x);
    var rows = [];
    done.forEach(function (index) {
      var x = valueOf(points[index], spec.x);
      var y = valueOf(points[index], spec.y);
      if (x === null || !isNumber(y)) return;
      if ((spec.log_x && !(x > 0)) || (spec.log_y && !(y > 0))) return;
      rows.push([xNumeric ? x : fmt(x), y, index]);
    });
    if (spec.kind === "line" && xNumeric) rows.sort(function (a, b) { return a[0] - b[0]; });
    var groups = groupsOf(spec, rows);
    var xAxis = axis(spec.x, xNumeric, spec.log_x);
    if (!xNumeric) xAxis.data = distinct(rows.map(function (row) { return row[0]; }));
    var shades = spec.color && groups.length === 1 ? rows.map(function (row) {
      return valueOf(points[row[2]], spec.color);
    }) : [];
    var shaded = shades.length > 0 && shades.every(isNumber);
    if (shaded) rows.forEach(function (row, position) { row.push(shades[position]); });
    var option = {
      animation: false,
      grid: { left: 64, right: shaded ? 140 : 24, top: groups.length > 1 ? 44 : 16, bottom: 48 },
      visualMap: shaded ? colorScale(3, shades, spec.color) : undefined,
      legend: groups.length > 1 ? { type: "scroll", top: 0 } : { show: false },
      tooltip: { trigger: "item", formatter: function (item) { return pointTip(item.data[2]); } },
      xAxis: xAxis,
      yAxis: axis(spec.y, true, spec.log_y),
      series: groups.map(function (group) {
        return {
          type: spec.kind === "line" ? "line" : "scatter", name: group.name, data: group.rows,
          symbolSize: rows.length > LARGE ? 4 : 8, large: rows.length > LARGE, largeThreshold: 0,
          emphasis: { focus: "series" },
        };
      }),
    };
    return { option: option, marks: rows.length, points: rows.length };
  }

  function heatmap(spec) {
    var cells = new Map();
    var counted = 0;
    done.forEach(function (index) {
      var point = points[index];
      var value = valueOf(point, spec.value);
      if (!isNumber(value)) return;
      var key = JSON.stringify([fmt(valueOf(point, spec.x)), fmt(valueOf(point, spec.y))]);
      var cell = cells.get(key) || { x: valueOf(point, spec.x), y: valueOf(point, spec.y), sum: 0, count: 0 };
      cell.sum += value;
      cell.count += 1;
      cells.set(key, cell);
      counted += 1;
    });
    var list = Array.from(cells.values());
    var xs = distinct(list.map(function (cell) { return cell.x; })).map(fmt);
    var ys = distinct(list.map(function (cell) { return cell.y; })).map(fmt);
    var means = list.map(function (cell) { return cell.sum / cell.count; });
    var rows = list.map(function (cell, position) {
      return [xs.indexOf(fmt(cell.x)), ys.indexOf(fmt(cell.y)), means[position], cell.count];
    });
    var option = {
      animation: false,
      grid: { left: 64, right: 140, top: 16, bottom: 48 },
      tooltip: {
        trigger: "item",
        formatter: function (item) {
          var row = item.data;
          return textTip([spec.x + " = " + xs[row[0]], spec.y + " = " + ys[row[1]],
            spec.value + " (mean) = " + fmt(row[2]), row[3] + (row[3] === 1 ? " point" : " points")]);
        },
      },
      xAxis: { type: "category", data: xs, name: spec.x, nameLocation: "middle", nameGap: 30 },
      yAxis: { type: "category", data: ys, name: spec.y, nameLocation: "middle", nameGap: 44 },
      visualMap: colorScale(2, means.length ? means : [0], spec.value),
      series: [{ type: "heatmap", data: rows, emphasis: { itemStyle: { borderColor: "#222", borderWidth: 1 } } }],
    };
    return { option: option, marks: rows.length, points: counted };
  }

  function parallel(spec) {
    var dims = spec.dimensions;
    var logs = new Set(spec.log || []);
    var numeric = dims.map(numericValues);
    var rows = done.map(function (index) {
      var row = dims.map(function (name, position) {
        var value = valueOf(points[index], name);
        return numeric[position] ? value : fmt(value);
      });
      row.push(index);
      return row;
    });
    var option = {
      animation: false,
      parallel: { left: 48, right: 150, top: 40, bottom: 24 },
      parallelAxis: dims.map(function (name, position) {
        var spec = { dim: position, name: name, type: numeric[position] ? (logs.has(name) ? "log" : "value") : "category",
          scale: true, nameTextStyle: { fontSize: 12 } };
        if (!numeric[position]) spec.data = distinct(rows.map(function (row) { return row[position]; }));
        return spec;
      }),
      tooltip: { trigger: "item", formatter: function (item) { return pointTip(item.data[dims.length]); } },
      series: [{ type: "parallel", data: rows, lineStyle: { width: 1, opacity: rows.length > 1000 ? 0.15 : 0.5 },
        emphasis: { lineStyle: { width: 3, opacity: 1 } } }],
    };
    var colorDim = spec.color ? dims.indexOf(spec.color) : -1;
    var values = rows.map(function (row) { return row[colorDim]; }).filter(isNumber);
    if (colorDim >= 0 && values.length) option.visualMap = colorScale(colorDim, values, spec.color);
    return { option: option, marks: rows.length, points: rows.length };
  }

  function histogram() {
    var values = done.map(function (index) { return points[index].duration; }).filter(isNumber);
    var low = Math.min.apply(null, values);
    var high = Math.max.apply(null, values);
    var bins = Math.max(1, Math.min(40, Math.ceil(Math.sqrt(values.length))));
    var width = high > low ? (high - low) / bins : 1;
    var counts = new Array(bins).fill(0);
    values.forEach(function (value) { counts[Math.min(bins - 1, Math.floor((value - low) / width))] += 1; });
    var labels = counts.map(function (_, bin) { return short(low + bin * width) + "–" + short(low + (bin + 1) * width); });
    var option = {
      animation: false,
      grid: { left: 64, right: 24, top: 16, bottom: 48 },
      tooltip: {
        trigger: "item",
        formatter: function (item) { return textTip([labels[item.dataIndex] + " s", item.value + " points"]); },
      },
      xAxis: { type: "category", data: labels, name: "duration (s)", nameLocation: "middle", nameGap: 30 },
      yAxis: { type: "value", name: "points", nameLocation: "middle", nameGap: 40, minInterval: 1 },
      series: [{ type: "bar", data: counts, barCategoryGap: "4%" }],
    };
    return { option: option, marks: counts.length, points: values.length };
  }

  var DRAW = { scatter: scatter, line: scatter, heatmap: heatmap, parallel: parallel, histogram: histogram };

  function plots() {
    var section = el("section", "plots");
    section.appendChild(el("h2", null, "Plots"));
    if (!data.plots.length) {
      section.appendChild(el("p", "empty", done.length ? "No numeric results or swept axes to plot."
        : "No completed points to plot yet."));
    }
    var board = el("div", "board");
    section.appendChild(board);
    var figures = data.plots.map(function (spec) {
      var figure = el("figure", "plot plot-" + spec.kind);
      figure.appendChild(el("figcaption", null, spec.title));
      figure.appendChild(el("div", "chart"));
      board.appendChild(figure);
      return figure;
    });
    return { section: section, draw: function () { drawOnSight(figures); } };
  }

  /* Draw the plots on screen now and each other one as it comes near the screen (or before
   * printing): a page of many plots over 10,000 points is usable at once. */
  function drawOnSight(figures) {
    var waiting = new Set(figures);
    function draw(figure) {
      if (waiting.delete(figure)) drawPlot(figure, figures.indexOf(figure));
    }
    var near = window.innerHeight;
    figures.forEach(function (figure) { if (figure.getBoundingClientRect().top < near) draw(figure); });
    if (!waiting.size) return;
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        draw(entry.target);
      });
    }, { rootMargin: NEAR_PX + "px 0px" });
    waiting.forEach(function (figure) { observer.observe(figure); });
    window.addEventListener("beforeprint", function () { waiting.forEach(draw); });
  }

  /* Draw into a figure once it is in the document (a chart takes the size of its box). */
  function drawPlot(figure, position) {
    var spec = data.plots[position];
    var canvas = figure.querySelector(".chart");
    var drawn = DRAW[spec.kind](spec);
    var chart = echarts.init(canvas, null, { renderer: "canvas" });
    drawn.option.color = PALETTE;
    chart.setOption(drawn.option);
    charts.push(chart);
    figure.dataset.kind = spec.kind;
    figure.dataset.marks = String(drawn.marks);
    figure.dataset.points = String(drawn.points);
  }

  // -- the table -------------------------------------------------------------------------

  function columns() {
    var list = [{ key: "name", label: "name" }, { key: "state", label: "state" }];
    data.parameters.forEach(function (name) { list.push({ key: name, label: name, get: function (p) { return p.params[name]; } }); });
    data.fields.forEach(function (name) { list.push({ key: name, label: name, get: function (p) { return p.result[name]; } }); });
    list.push({ key: "duration_s", label: "duration (s)", get: function (p) { return p.duration; } });
    if (points.some(function (p) { return p.cpu_seconds != null; })) {
      list.push({ key: "cpu_seconds", label: "CPU (s)", get: function (p) { return p.cpu_seconds; } });
      list.push({ key: "peak_memory_mib", label: "peak memory (MiB)", get: function (p) { return p.peak_memory_mib; } });
    }
    list.push({ key: "outputs", label: "outputs", get: function (p) { return p.outputs.map(function (o) { return o.label; }).join(" "); } });
    list.forEach(function (column) { if (!column.get) column.get = function (p) { return p[column.key]; }; });
    return list;
  }

  function compare(a, b) {
    var aEmpty = a === null || a === undefined || a === "";
    var bEmpty = b === null || b === undefined || b === "";
    if (aEmpty || bEmpty) return aEmpty === bEmpty ? 0 : aEmpty ? 1 : -1;
    if (isNumber(a) && isNumber(b)) return a - b;
    return fmt(a).localeCompare(fmt(b), undefined, { numeric: true });
  }

  function cellFor(column, point) {
    var td = el("td");
    var value = column.get(point);
    if (column.key === "state") {
      td.appendChild(el("span", stateClass(point.state), point.state));
    } else if (column.key === "outputs") {
      point.outputs.forEach(function (output) {
        var href = safeHref(output.href);
        var link = el(href ? "a" : "span", null, output.label);
        if (href) link.href = href;
        td.appendChild(link);
      });
    } else {
      td.textContent = fmt(value);
      if (isNumber(value)) td.className = "num";
    }
    return td;
  }

  function table() {
    var section = el("section", "points");
    section.appendChild(el("h2", null, "Points"));
    var cols = columns();
    var controls = el("div", "controls");
    var search = el("input");
    search.type = "search";
    search.placeholder = "Filter: text in any column";
    search.setAttribute("aria-label", "Filter the points");
    var stateSelect = el("select");
    stateSelect.setAttribute("aria-label", "Only points in this state");
    stateSelect.appendChild(el("option", null, "every state")).value = "";
    data.header.summary.forEach(function (entry) {
      stateSelect.appendChild(el("option", null, entry[0] + " (" + entry[1] + ")")).value = entry[0];
    });
    var count = el("span", "count");
    controls.append(search, stateSelect, count);
    section.appendChild(controls);
    var scroller = el("div", "scroller");
    var grid = el("table");
    var head = el("thead");
    var headRow = el("tr");
    head.appendChild(headRow);
    var body = el("tbody");
    grid.append(head, body);
    scroller.appendChild(grid);
    section.appendChild(scroller);
    var more = el("button", "more");
    more.type = "button";
    section.appendChild(more);

    var haystacks = points.map(function (point) {
      return cols.map(function (column) { return fmt(column.get(point)); }).join("\u0000").toLowerCase();
    });
    var sortBy = null;
    var descending = false;
    var view = [];
    var shown = 0;

    function showRows(upTo) {
      var fragment = document.createDocumentFragment();
      for (var position = shown; position < Math.min(upTo, view.length); position++) {
        var point = points[view[position]];
        var row = el("tr");
        cols.forEach(function (column) { row.appendChild(cellFor(column, point)); });
        fragment.appendChild(row);
      }
      body.appendChild(fragment);
      shown = Math.min(upTo, view.length);
      grid.dataset.shown = String(shown);
      more.hidden = shown >= view.length;
      more.textContent = "Show " + Math.min(TABLE_PAGE, view.length - shown) + " more of " + (view.length - shown);
    }

    function update() {
      var needle = search.value.trim().toLowerCase();
      var state = stateSelect.value;
      view = [];
      points.forEach(function (point, index) {
        if (state && point.state !== state) return;
        if (needle && haystacks[index].indexOf(needle) < 0) return;
        view.push(index);
      });
      if (sortBy !== null) {
        var column = cols[sortBy];
        view.sort(function (a, b) {
          var order = compare(column.get(points[a]), column.get(points[b]));
          if (order !== 0 && descending && !(column.get(points[a]) == null || column.get(points[b]) == null)) order = -order;
          return order || a - b;
        });
      }
      body.textContent = "";
      shown = 0;
      grid.dataset.rows = String(view.length);
      count.textContent = view.length + " of " + points.length + " points";
      showRows(TABLE_PAGE);
    }

    cols.forEach(function (column, position) {
      var th = el("th");
      var button = el("button", null, column.label);
      button.type = "button";
      button.title = "Sort by " + column.label;
      button.addEventListener("click", function () {
        descending = sortBy === position ? !descending : false;
        sortBy = position;
        headRow.querySelectorAll("th").forEach(function (cell) { cell.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        update();
      });
      th.appendChild(button);
      headRow.appendChild(th);
    });
    search.addEventListener("input", update);
    stateSelect.addEventListener("change", update);
    more.addEventListener("click", function () { showRows(shown + TABLE_PAGE); });
    update();
    return section;
  }

  // -- failures --------------------------------------------------------------------------

  function failures() {
    var failed = points.filter(function (point) { return failedStates.has(point.state); });
    var section = el("section", "failures");
    section.dataset.count = String(failed.length);
    section.appendChild(el("h2", null, "Failed points (" + failed.length + ")"));
    if (!failed.length) {
      section.appendChild(el("p", "empty", "None."));
      return section;
    }
    failed.slice(0, FAILED_SHOWN).forEach(function (point) {
      var item = el("article", "failure");
      var title = el("h3");
      title.append(el("span", stateClass(point.state), point.state), document.createTextNode(" " + point.name));
      item.appendChild(title);
      item.appendChild(pairs(el("dl", "params"), Object.entries(point.params)));
      item.appendChild(el("pre", "error", point.error || "(no error text)"));
      if (point.log_tail.length) item.appendChild(el("pre", "log", point.log_tail.join("\n")));
      section.appendChild(item);
    });
    if (failed.length > FAILED_SHOWN) {
      section.appendChild(el("p", "empty", (failed.length - FAILED_SHOWN) +
        " more: choose a failed state in the table's filter to see them all."));
    }
    return section;
  }

  var board = plots();
  root.append(header(), board.section, table(), failures());
  board.draw();
  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
  root.dataset.readyMs = String(Math.round(performance.now()));
  root.dataset.ready = "true";
})();
