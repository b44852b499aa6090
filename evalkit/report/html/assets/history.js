// evalkit history: pass rate per run over time with intervals, by prompt version; the baseline ringed.
const PALETTE = ["#0969da", "#bc4c00", "#8250df", "#1a7f37", "#cf222e", "#9a6700", "#57606a"];

function chart(runs, versions) {
  const plotted = runs.filter((r) => r.rate !== null && r.rate !== undefined);
  if (!plotted.length) return el("p", { class: "note" }, "no run has a pass rate to plot");
  const vIndex = new Map(versions.map(([v], i) => [v, i]));
  const W = 900, H = 320, L = 48, Rm = 16, T = 16, B = 56;
  const step = (W - L - Rm) / Math.max(1, runs.length);
  const x = (i) => L + step * (i + 0.5), y = (v) => T + (1 - v) * (H - T - B);
  const parts = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) parts.push(
    svg("line", { class: "axis", x1: L, x2: W - Rm, y1: y(t), y2: y(t) }),
    svg("text", { x: L - 6, y: y(t) + 4, "text-anchor": "end" }, (100 * t) + "%"));
  runs.forEach((r, i) => {
    const vi = vIndex.get(r.version), colour = PALETTE[vi % PALETTE.length];
    parts.push(svg("text", { x: x(i), y: H - B + 16, "text-anchor": "middle" }, "v" + (vi + 1)));
    if (r.rate === null || r.rate === undefined) {
      parts.push(svg("text", { x: x(i), y: y(0.5), "text-anchor": "middle" }, "n/a"));
      return;
    }
    if (r.lo !== null) parts.push(svg("line", { class: "ci", x1: x(i), x2: x(i), y1: y(r.lo), y2: y(r.hi) }),
      svg("line", { class: "ci", x1: x(i) - 4, x2: x(i) + 4, y1: y(r.lo), y2: y(r.lo) }),
      svg("line", { class: "ci", x1: x(i) - 4, x2: x(i) + 4, y1: y(r.hi), y2: y(r.hi) }));
    const dot = svg("circle", { cx: x(i), cy: y(r.rate), r: 5, fill: colour, "data-run": r.run },
      svg("title", {}, `${r.run}: ${r.texts[0]} (interval ${r.texts[1]}), prompt ${r.version}`));
    parts.push(dot);
    if (r.baseline) parts.push(svg("circle", { class: "baseline", cx: x(i), cy: y(r.rate), r: 10 }),
      svg("text", { x: x(i), y: H - B + 32, "text-anchor": "middle", "font-weight": "bold" }, "baseline"));
  });
  return svg("svg", { class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": "pass rate per run with intervals" }, parts);
}

function render() {
  document.title = DATA.title;
  const base = DATA.baseline ? (DATA.baseline_found ? "baseline: run " + DATA.baseline :
    "baseline " + DATA.baseline + " is not among these runs") : "no baseline set (evalkit baseline set RUN)";
  APP.appendChild(el("header", {}, el("h1", {}, DATA.title), el("p", { id: "baseline" }, base)));
  APP.appendChild(section("Pass rate per run", chart(DATA.runs, DATA.versions),
    el("p", { class: "note" }, "Dot: the run's pass rate (mean per-case pass rate); bar: its interval from summary.json. Under each run, its prompt version (legend below)."),
    table(["", "prompt version", "label"], DATA.versions.map(([v, label], i) => ["v" + (i + 1), v, label]))));
  APP.appendChild(section("Runs", el("div", { class: "scroll" }, table(
    ["run", "started", "prompt", "model", "status", "cases", "pass rate", "interval", "error rate", "cost", ""],
    DATA.runs.map((r) => [r.run, r.started.slice(0, 16).replace("T", " "), r.version + (r.label ? ` (${r.label})` : ""),
      r.model, r.status, r.cases === null || r.cases === undefined ? "-" : String(r.cases), ...r.texts, r.baseline ? "baseline" : ""])))));
}

boot(render);
