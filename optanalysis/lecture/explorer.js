// The interactive figure of a linear rule: sliders pick a point of a grid computed in advance by
// optanalysis (data/<rule>.js sets window.OA_EXPLORER[rule]); nothing is computed or fetched here.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var W = 360, H = 260, M = { l: 46, r: 18, t: 10, b: 36 };

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function text(parent, x, y, s, anchor) {
    var t = el("text", { x: x, y: y, "text-anchor": anchor || "middle" }, parent);
    t.textContent = s;
    return t;
  }
  function scale(a, b, lo, hi) { return function (v) { return lo + (v - a) / (b - a) * (hi - lo); }; }
  function colour(rho) {  // fast (dark) to slow (light); unstable grey
    if (rho === null || rho >= 1) { return "#e6e6e6"; }
    var t = Math.min(1, Math.log10(1 / (1 - rho)) / 3);
    return "hsl(212, 60%, " + (30 + 62 * t).toFixed(1) + "%)";
  }
  function axes(svg, xlabel, ylabel) {
    el("path", { "class": "axis", d: "M" + M.l + "," + M.t + "V" + (H - M.b) + "H" + (W - M.r) }, svg);
    text(svg, (M.l + W - M.r) / 2, H - 4, xlabel);
    var y = text(svg, 12, (M.t + H - M.b) / 2, ylabel);
    y.setAttribute("transform", "rotate(-90 12 " + (M.t + H - M.b) / 2 + ")");
  }
  function ticks(svg, sx, sy, xs, ys) {
    xs.forEach(function (v) { text(svg, sx(v), H - M.b + 14, String(+v.toFixed(2))); });
    ys.forEach(function (v) { text(svg, M.l - 4, sy(v) + 4, String(+v.toFixed(2)), "end"); });
  }

  function setup(fig) {
    var data = (window.OA_EXPLORER || {})[fig.getAttribute("data-rule")];
    if (!data) { fig.querySelector(".readout").textContent = "The figure's data did not load."; return; }
    var inputs = {}, outputs = {};
    ["lr", "momentum", "kappa"].forEach(function (n) {
      inputs[n] = fig.querySelector("input[name=" + n + "]");
      outputs[n] = fig.querySelector("output[name=" + n + "]");
    });
    var lrs = data.lr, ms = data.momentum, hasM = ms[0] !== null;
    var region = fig.querySelector("svg.region"), traj = fig.querySelector("svg.trajectory");
    var lrMax = lrs[lrs.length - 1] + (lrs[1] - lrs[0]) / 2;
    var sx = scale(0, lrMax, M.l, W - M.r);
    var mTop = hasM ? 1 : 1, sy = scale(0, mTop, H - M.b, M.t);
    var cellW = sx(lrs[1]) - sx(lrs[0]);
    axes(region, "step size α (L = 1)", hasM ? "momentum β" : "");
    ticks(region, sx, sy, [0, lrMax / 2, lrMax], hasM ? [0, 0.5, 0.95] : []);
    var cells = el("g", {}, region);
    var boundary = el("path", { "class": "boundary" }, region);
    var tuned = el("circle", { "class": "tuned", r: 6 }, region);
    var point = el("circle", { "class": "point", r: 6 }, region);
    var steps = data.steps, lo = -30, hi = 5;
    var tx = scale(0, steps, M.l, W - M.r), ty = scale(lo, hi, H - M.b, M.t);
    axes(traj, "step t", "log10 loss / loss at start");
    ticks(traj, tx, ty, [0, steps / 2, steps], [-30, -20, -10, 0]);
    var guide = el("path", { "class": "guide" }, traj);
    var path = el("path", { "class": "trajectory" }, traj);
    var readout = fig.querySelector(".readout");

    function rowEdges(j) {  // the band of momentum values drawn for row j
      if (!hasM) { return [0, 1]; }
      var a = j === 0 ? 0 : (ms[j - 1] + ms[j]) / 2, b = j === ms.length - 1 ? 1 : (ms[j] + ms[j + 1]) / 2;
      return [a, b];
    }
    function draw() {
      var i = +inputs.lr.value, j = hasM ? +inputs.momentum.value : 0, k = +inputs.kappa.value;
      var rho = data.rho[k], lr = lrs[i], m = hasM ? ms[j] : 0;
      while (cells.firstChild) { cells.removeChild(cells.firstChild); }
      for (var a = 0; a < lrs.length; a++) {
        for (var b = 0; b < ms.length; b++) {
          var e = rowEdges(b);
          el("rect", { x: sx(lrs[a]) - cellW / 2, y: sy(e[1]), width: cellW + 0.5,
                       height: sy(e[0]) - sy(e[1]) + 0.5, fill: colour(rho[a][b]) }, cells);
        }
      }
      var d = "";
      data.boundary.forEach(function (v, b) {
        if (v !== null) { d += (d ? "L" : "M") + sx(v).toFixed(1) + "," + sy(hasM ? ms[b] : (b ? 1 : 0)).toFixed(1); }
      });
      if (!hasM && data.boundary[0] !== null) { d = "M" + sx(data.boundary[0]) + "," + sy(0) + "V" + sy(1); }
      boundary.setAttribute("d", d);
      var t = data.tuned[k];
      if (t && t.lr <= lrMax) {
        tuned.setAttribute("cx", sx(t.lr)); tuned.setAttribute("cy", sy(hasM ? t.momentum : 0.5));
        tuned.style.display = "";
      } else { tuned.style.display = "none"; }
      point.setAttribute("cx", sx(lr).toFixed(2));
      point.setAttribute("cy", sy(hasM ? m : 0.5).toFixed(2));
      var loss = data.loss[k][i][j], p = "";
      loss.forEach(function (v, r) {
        if (v !== null) { p += (p ? "L" : "M") + tx(r * data.every).toFixed(1) + "," + ty(Math.min(hi, v)).toFixed(1); }
      });
      path.setAttribute("d", p);
      var r0 = rho[i][j];
      if (r0 > 0 && r0 < 1) {
        var end = Math.min(steps, lo / (2 * Math.log10(r0)));
        guide.setAttribute("d", "M" + tx(0) + "," + ty(0) + "L" + tx(end).toFixed(1) + "," + ty(2 * end * Math.log10(r0)).toFixed(1));
      } else { guide.setAttribute("d", ""); }
      outputs.lr.textContent = "α = " + lr.toPrecision(3);
      if (hasM) { outputs.momentum.textContent = "β = " + m; }
      outputs.kappa.textContent = "κ = " + data.kappa[k];
      var div = data.diverged[k][i][j], obs = data.observed[k][i][j];
      readout.textContent = "ρ = " + r0.toFixed(4) + " (derived spectral radius, largest over the run's "
        + "5 curvatures in [1/κ, 1]; dashed: loss ∝ ρ^(2t)). "
        + (div >= 0 ? "The run diverged at step " + div + "."
           : "The run's rate over its second half: " + (obs === null ? "n/a" : obs.toFixed(4)) + ".")
        + (t ? " Circle: the derived optimal tuning." : "");
    }
    ["lr", "momentum", "kappa"].forEach(function (n) {
      if (inputs[n]) { inputs[n].addEventListener("input", draw); }
    });
    draw();
  }
  function start() { Array.prototype.forEach.call(document.querySelectorAll("figure.explorer"), setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
