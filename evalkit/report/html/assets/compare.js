// evalkit comparison: verdict first, a forest plot of paired differences, changed cases side by side.
const TONE_WORD = { bad: "✗", good: "✓", neutral: "•" };

// one scale for every row, in percentage points, always showing 0
function scale(rows) {
  let lo = 0, hi = 0;
  for (const r of rows) for (const v of [r.lo, r.hi, r.diff]) if (v !== null && v !== undefined) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const pad = Math.max(0.02, (hi - lo) * 0.08);
  return [lo - pad, hi + pad];
}

// x position of a difference; 16 px kept free at each end for the axis labels
function xOf(dom, W) {
  return (v) => 16 + ((v - dom[0]) / (dom[1] - dom[0])) * (W - 32);
}

function forestCell(r, dom, W) {
  const H = 22, x = xOf(dom, W);
  const cls = r.verdict === "regressed" ? "pt-regressed" : r.verdict === "improved" ? "pt-improved" : "pt-other";
  const parts = [svg("line", { class: "zero", x1: x(0), x2: x(0), y1: 0, y2: H })];
  if (r.lo !== null && r.hi !== null) parts.push(svg("line", { class: "ci", x1: x(r.lo), x2: x(r.hi), y1: H / 2, y2: H / 2 }),
    svg("line", { class: "ci", x1: x(r.lo), x2: x(r.lo), y1: H / 2 - 5, y2: H / 2 + 5 }),
    svg("line", { class: "ci", x1: x(r.hi), x2: x(r.hi), y1: H / 2 - 5, y2: H / 2 + 5 }));
  if (r.diff !== null) parts.push(svg("circle", { class: cls, cx: x(r.diff), cy: H / 2, r: r.lo === null ? 3 : 5 }));
  return svg("svg", { class: "forest", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `${r.label}: difference ${r.texts[2]} pts, interval ${r.texts[3]}` }, parts);
}

function axis(dom, W) {
  const x = xOf(dom, W), ticks = [];
  const step = niceStep((dom[1] - dom[0]) * 100 / 4) / 100;
  for (let t = Math.ceil(dom[0] / step) * step; t <= dom[1] + 1e-12; t += step) {
    ticks.push(svg("text", { x: x(t), y: 12, "text-anchor": "middle" }, Math.abs(t) < 1e-9 ? "0" : (t > 0 ? "+" : "") + (100 * t).toFixed(Math.abs(step) < 0.01 ? 1 : 0)));
  }
  return svg("svg", { class: "forest", width: W, height: 16, viewBox: `0 0 ${W} 16` }, ticks);
}

function niceStep(raw) {
  const p = Math.pow(10, Math.floor(Math.log10(raw || 1))), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function forest(title, rows) {
  if (!rows.length) return null;
  const dom = scale(rows), W = 240;
  return section(title, el("div", { class: "scroll" }, el("table", { class: "grid forest-table" },
    el("thead", {}, el("tr", {}, ["metric", "base", "head", "Δ pts", "interval (pts)", "p", "n", "verdict"].map((h) => el("th", {}, h)),
      el("th", {}, "head − base, points", el("br"), axis(dom, W)))),
    el("tbody", {}, rows.map((r) => el("tr", { "data-metric": r.label },
      el("td", {}, r.label), r.texts.map((t, i) => el("td", { class: i < 6 ? "num" : "" }, t)),
      el("td", {}, forestCell(r, dom, W))))))),
    el("p", { class: "note" }, "Dot: the mean paired difference; bar: its interval (Holm-adjusted where marked; no bar where no test is valid). Dashed line: no change."));
}

function sideView(label, recs) {
  if (!recs.length) return el("div", { class: "side" }, el("h4", {}, label), el("p", { class: "note" }, "no record in this run"));
  return el("div", { class: "side" }, el("h4", {}, label), recs.map((r) => el("div", { class: "rep" },
    el("h5", {}, "repeat " + r.r + " ", badge(r.o)),
    r.err ? el("div", { class: "error" }, r.err) : null,
    r.out !== undefined ? pre(r.out, "text output") : el("p", { class: "note" }, "no output"),
    r.traj ? trajectoryView(r.traj) : null,
    (r.ch || []).filter((c) => c[1] !== "pass").map((c) => el("p", {}, badge(c[1]), " check " + c[0] + ": " + c[2])),
    (r.jd || []).map((j) => el("div", { class: "judge" }, el("p", {}, badge(j.o), " judge " + j.name + (j.score !== undefined ? " score " + j.score : "")),
      j.err ? el("div", { class: "error" }, j.err) : null, pre(j.reasoning || "no reasoning given", "text reasoning"))))));
}

function caseBody(c) {
  if (!c.base) return el("p", { class: "note" }, `not shown: only the first ${DATA.side_by_side_limit} changed cases carry both outputs (all are in results.jsonl)`);
  const b = c.base[0], h = c.head[0];
  return el("div", {}, el("div", { class: "sides" }, sideView("base", c.base), sideView("head", c.head)),
    b && h && b.out !== undefined && h.out !== undefined ? [el("h5", {}, "word-level diff, base → head (repeat 0)"), diffView(b.out, h.out)] : null);
}

function caseItem(c) {
  const d = el("details", { class: "case", "data-case": c.id, "data-status": c.status },
    el("summary", {}, el("strong", {}, c.id), " ", el("span", { class: "badge" }, c.status),
      ` ${c.rates[0]} → ${c.rates[1]}`, c.tags.length ? " [" + c.tags.join(", ") + "]" : "",
      c.reasons.length ? el("div", { class: "note" }, c.reasons.join("; ")) : null));
  d.addEventListener("toggle", () => { if (d.open && d.childNodes.length === 1) d.appendChild(caseBody(c)); });
  return d;
}

function casesSection() {
  if (!DATA.cases.length) return section("Changed cases", el("p", { class: "note" }, "no case changed status"));
  const list = el("div", { id: "case-list" });
  const statuses = [...new Set(DATA.cases.map((c) => c.status))];
  const pick = el("select", { id: "status", "aria-label": "status", onchange: draw }, el("option", { value: "" }, "status: any"),
    statuses.map((s) => el("option", { value: s }, s)));
  const q = el("input", { id: "q", type: "search", placeholder: "search ids, reasons…", "aria-label": "search", oninput: draw });
  const count = el("p", { class: "note", id: "count" });
  function draw() {
    const s = pick.value, needle = q.value.trim().toLowerCase();
    const shown = DATA.cases.filter((c) => (!s || c.status === s) &&
      (!needle || (c.id + "\n" + c.reasons.join("\n") + "\n" + c.tags.join(" ")).toLowerCase().includes(needle)));
    list.textContent = "";
    let last = null;
    for (const c of shown.slice(0, 500)) {
      if (c.status !== last) { list.appendChild(el("h3", {}, c.status)); last = c.status; }
      list.appendChild(caseItem(c));
    }
    count.textContent = `${shown.length} of ${DATA.cases.length} changed cases` + (shown.length > 500 ? " (first 500 listed: narrow the filter)" : "");
  }
  const s = section("Changed cases", el("div", { class: "filters" }, pick, q), count, list);
  draw();
  return s;
}

function render() {
  document.title = DATA.title;
  APP.appendChild(el("header", {},
    el("p", { class: "verdict " + DATA.tone, id: "verdict" }, TONE_WORD[DATA.tone] + " " + DATA.verdict),
    el("p", { class: "big", id: "summary" }, DATA.summary), el("p", { class: "note" }, DATA.alone),
    table(["", "run", "prompt version", "label", "model"], DATA.runs),
    warnings(DATA.warnings)));
  if (DATA.gate) APP.appendChild(section("Gate", table(["rule", "result", "detail"], DATA.gate)));
  APP.append(...[forest("Pass rates, paired", DATA.metrics)].filter(Boolean));
  if (DATA.pairwise) APP.appendChild(section("Pairwise judge", DATA.pairwise.map((line) => el("p", { class: "pairwise" }, line))));
  APP.appendChild(el("p", {}, "cases: " + (DATA.status_counts.map(([k, v]) => `${k} ${v}`).join(" · ") || "none") +
    ` · added ${DATA.added.length} · removed ${DATA.removed.length}`));
  APP.appendChild(casesSection());
  APP.append(...[forest("Tags", DATA.tags)].filter(Boolean)); // none in an untagged suite
  APP.appendChild(section("Cost and latency", table(["", "base", "head", "Δ"], DATA.resources)));
}

boot(render);
