// evalkit run report: headline, rates, a filterable, sortable case table and a drill-down per case.
const PAGE = 100;
let R = [], hay = [];
const state = { outcome: "", tag: "", check: "", judge: "", q: "", sort: "", desc: false, page: 0, rows: null };

function haystack(i) {
  if (hay[i] === undefined) {
    const r = R[i];
    const parts = [r.id, (r.tags || []).join(" "), r.out || "", r.err || "", text(r.vars || "")];
    for (const c of r.ch || []) parts.push(c[0], c[2] || "");
    for (const j of r.jd || []) parts.push(j.name, j.reasoning || "", j.err || "");
    if (r.traj) for (const t of r.traj.turns) for (const c of t.calls || []) parts.push(c.name);
    hay[i] = parts.join("\n").toLowerCase();
  }
  return hay[i];
}

function has(list, name, outcome, key) {
  for (const g of list || []) if ((key ? g[key] : g[0]) === name && (key ? g.o : g[1]) === outcome) return true;
  return false;
}

function filtered() {
  const [cn, co] = state.check ? state.check.split("\u0000") : [];
  const [jn, jo] = state.judge ? state.judge.split("\u0000") : [];
  const q = state.q.trim().toLowerCase();
  const out = [];
  for (let i = 0; i < R.length; i++) {
    const r = R[i];
    if (state.outcome && r.o !== state.outcome) continue;
    if (state.tag && !(r.tags || []).includes(state.tag)) continue;
    if (cn !== undefined && !has(r.ch, cn, co)) continue;
    if (jn !== undefined && !has(r.jd, jn, jo, "name")) continue;
    if (q && !haystack(i).includes(q)) continue;
    out.push(i);
  }
  const key = SORTS[state.sort];
  if (key) {
    const sign = state.desc ? -1 : 1;
    out.sort((a, b) => {
      const x = key(R[a]), y = key(R[b]);
      if (x === y) return a - b;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sign;
    });
  }
  return out;
}

const ORDER = { fail: 0, error: 1, pass: 2 };
const SORTS = {
  case: (r) => r.id, repeat: (r) => r.r, outcome: (r) => ORDER[r.o], score: (r) => r.score,
  latency: (r) => r.lat, cost: (r) => r.cost, tokens: (r) => r.tok[1],
};

function graderNote(r) {
  const bad = [];
  for (const c of r.ch || []) if (c[1] !== "pass") bad.push(c[0] + " " + c[1]);
  for (const j of r.jd || []) if (j.o !== "pass") bad.push("judge " + j.name + " " + j.o);
  if (r.trunc) bad.unshift("truncated");
  if (r.err) bad.unshift(r.err.slice(0, 80));
  return bad.join("; ");
}

function preview(s) {
  if (s === undefined) return "";
  const one = s.replace(/\s+/g, " ");
  return one.length > 120 ? one.slice(0, 120) + "…" : one;
}

function drawRows() {
  state.rows = filtered();
  const body = document.getElementById("case-rows");
  const start = state.page * PAGE, rows = state.rows.slice(start, start + PAGE);
  body.textContent = "";
  for (const i of rows) {
    const r = R[i];
    body.appendChild(el("tr", { "data-case": r.id, "data-index": i, tabindex: 0, onclick: () => openCase(r.id), onkeydown: (e) => { if (e.key === "Enter") openCase(r.id); } },
      el("td", { class: "id" }, r.id), el("td", { class: "num" }, String(r.r)), el("td", {}, badge(r.o)),
      el("td", {}, (r.tags || []).join(", ")), el("td", { class: "out" }, preview(r.out)),
      el("td", { class: "why" }, graderNote(r)),
      el("td", { class: "num" }, ms(r.lat)), el("td", { class: "num" }, usd(r.cost))));
  }
  const n = state.rows.length, pages = Math.max(1, Math.ceil(n / PAGE));
  document.getElementById("count").textContent = n === 0 ? "no case matches" :
    `showing ${start + 1}–${Math.min(n, start + PAGE)} of ${n} outputs (of ${R.length})`;
  document.getElementById("page-no").textContent = `page ${state.page + 1} of ${pages}`;
  document.getElementById("prev").disabled = state.page === 0;
  document.getElementById("next").disabled = state.page >= pages - 1;
}

function select(id, label, options) {
  const s = el("select", { id, "aria-label": label, onchange: () => { state[id] = s.value; state.page = 0; drawRows(); } },
    el("option", { value: "" }, label + ": any"), options.map(([v, t]) => el("option", { value: v }, t)));
  return s;
}

function graderOptions(rows) {
  const out = [];
  for (const [name] of rows) for (const o of ["fail", "error", "pass"]) out.push([name + "\u0000" + o, name + " — " + o]);
  return out;
}

function setFilter(id, value) {
  const s = document.getElementById(id);
  s.value = value; state[id] = value; state.page = 0; drawRows();
  document.getElementById("cases").scrollIntoView();
}

function caseTable() {
  const head = [["case", "case"], ["repeat", "repeat"], ["outcome", "outcome"], ["tags", null], ["output", null],
    ["not passing", null], ["latency", "latency"], ["cost", "cost"]];
  const search = el("input", { id: "q", type: "search", placeholder: "search ids, outputs, reasons…", "aria-label": "search",
    oninput: () => { state.q = search.value; state.page = 0; drawRows(); } });
  return el("section", { id: "cases" }, el("h2", {}, "Cases"),
    el("div", { class: "filters" },
      select("outcome", "outcome", [["fail", "fail"], ["error", "error"], ["pass", "pass"]]),
      select("tag", "tag", DATA.tags.map(([t]) => [t, t])),
      DATA.checks.length ? select("check", "check", graderOptions(DATA.checks)) : null,
      DATA.judges.length ? select("judge", "judge", graderOptions(DATA.judges)) : null,
      search),
    el("p", { id: "count", class: "note", "aria-live": "polite" }),
    el("div", { class: "scroll" }, el("table", { class: "grid cases" },
      el("thead", {}, el("tr", {}, head.map(([t, key]) => el("th", {},
        key ? el("button", { class: "link", "data-sort": key, onclick: () => sortBy(key) }, t) : t)))),
      el("tbody", { id: "case-rows" }))),
    el("div", { class: "pager" },
      el("button", { id: "prev", onclick: () => { state.page--; drawRows(); } }, "← previous"),
      el("span", { id: "page-no" }),
      el("button", { id: "next", onclick: () => { state.page++; drawRows(); } }, "next →")));
}

function sortBy(key) {
  state.desc = state.sort === key ? !state.desc : false;
  state.sort = key; state.page = 0;
  for (const b of document.querySelectorAll("th button")) b.removeAttribute("aria-sort");
  document.querySelector(`[data-sort="${key}"]`).setAttribute("aria-sort", state.desc ? "descending" : "ascending");
  drawRows();
}

function promptView(r) {
  if (!r.prompt) return el("p", { class: "note" }, "not stored: this run was made before evalkit kept the prompt as sent, or its target takes variables, not a prompt");
  return el("div", { class: "prompt" }, r.prompt.map(([role, i]) => el("div", { class: "msg" },
    el("div", { class: "role" }, role), pre(DATA.texts[i]))));
}

function repeatView(r) {
  const facts = [
    ["tokens", `${r.tok[0]} in / ${r.tok[1]} out` + (r.tok[2] || r.tok[3] ? ` (cache read ${r.tok[2]}, write ${r.tok[3]})` : "")],
    ["cost", usd(r.cost)], ["latency", ms(r.lat)], ["finish reason", r.fin || "n/a"],
    ["truncated", r.trunc ? "yes: cut off at the token limit" : "no"],
    ["attempts", String(r.att) + (r.cached ? " (answer from the cache)" : "")],
  ];
  return el("div", { class: "repeat" },
    el("h4", {}, "repeat " + r.r + " ", badge(r.o), r.score !== undefined ? " score " + r.score : ""),
    r.err ? el("div", { class: "error" }, el("strong", {}, "error: "), r.err) : null,
    el("h5", {}, "output"), r.out !== undefined ? pre(r.out, "text output") : el("p", { class: "note" }, "no output"),
    r.traj ? trajectoryView(r.traj) : null,
    r.ch ? [el("h5", {}, "checks"), table(["check", "outcome", "score", "reason"],
      r.ch.map(([n, o, why, s]) => [n, badge(o), s === null ? "" : String(s), why]))] : null,
    (r.jd || []).map((j) => el("div", { class: "judge" },
      el("h5", {}, "judge " + j.name + " ", badge(j.o), j.score !== undefined ? " score " + j.score : "", j.flip ? " (samples disagreed)" : ""),
      j.verdict !== undefined ? el("p", {}, "verdict: " + text(j.verdict)) : null,
      j.err ? el("div", { class: "error" }, j.err) : null,
      pre(j.reasoning || "no reasoning given", "text reasoning"),
      el("p", { class: "note" }, `${j.tok[0]} in / ${j.tok[1]} out tokens, ${j.cost}`))),
    dl(facts));
}

function openCase(id) {
  const reps = R.filter((r) => r.id === id).sort((a, b) => a.r - b.r);
  const box = document.getElementById("detail");
  box.textContent = "";
  if (!reps.length) { box.appendChild(el("p", { class: "note" }, "no case with that id in this run")); return; }
  const first = reps[0];
  box.appendChild(el("div", { class: "detail-head" }, el("h2", {}, "Case " + id),
    el("button", { onclick: closeCase }, "close")));
  if (first.tags) box.appendChild(el("p", {}, "tags: " + first.tags.join(", ")));
  box.appendChild(el("h3", {}, "variables"));
  box.appendChild(first.vars ? pre(first.vars, "text vars") : el("p", { class: "note" }, "none"));
  box.appendChild(el("h3", {}, "rendered prompt, exactly as sent"));
  box.appendChild(promptView(first));
  box.appendChild(el("h3", {}, "expected"));
  box.appendChild(first.exp !== undefined ? pre(first.exp, "text expected") : el("p", { class: "note" }, "no expected answer"));
  box.appendChild(el("h3", {}, reps.length > 1 ? `${reps.length} repeats, side by side` : "result"));
  box.appendChild(el("div", { class: "repeats" }, reps.map(repeatView)));
  box.hidden = false;
  if (caseInHash() !== id) history.replaceState(null, "", "#case=" + encodeURIComponent(id));
  box.scrollIntoView();
}

// the case id of a #case=ID link, or null (a malformed escape in a hand-made link too)
function caseInHash() {
  if (!location.hash.startsWith("#case=")) return null;
  try { return decodeURIComponent(location.hash.slice(6)); } catch (e) { return null; }
}

function closeCase() {
  document.getElementById("detail").hidden = true;
  history.replaceState(null, "", "#");
}

function render() {
  R = DATA.records;
  hay = new Array(R.length);
  const f = DATA.figures;
  document.title = DATA.title;
  APP.appendChild(el("header", {}, el("h1", {}, DATA.title),
    el("p", { class: "big", id: "pass-rate" }, "pass rate ", el("strong", {}, f.pass_rate),
      f.interval ? ` (${f.interval[2]} CI ${f.interval[0]}–${f.interval[1]})` : " (no interval: " + f.interval_note + ")",
      ` · error rate ${f.error_rate} · ${f.counts[0]} pass, ${f.counts[1]} fail, ${f.counts[2]} error`),
    el("p", { id: "headline" }, DATA.headline), warnings(DATA.warnings), dl(DATA.meta),
    el("p", { class: "note" }, DATA.definition)));
  APP.appendChild(el("div", { class: "rates" },
    rateTable("Checks", DATA.checks, (n) => setFilter("check", n + "\u0000fail")),
    rateTable("Judges", DATA.judges, (n) => setFilter("judge", n + "\u0000fail")),
    rateTable("Tags", DATA.tags, (t) => setFilter("tag", t))));
  APP.appendChild(caseTable());
  APP.appendChild(el("section", { id: "detail", class: "detail", hidden: true }));
  drawRows();
  const fromHash = () => { const id = caseInHash(); if (id !== null) openCase(id); };
  window.addEventListener("hashchange", fromHash);
  fromHash();
  indexLater(0);
}

// build the search index in small slices once the page is up, so the first search is quick too
function indexLater(from) {
  const end = Math.min(R.length, from + 500);
  for (let i = from; i < end; i++) haystack(i);
  if (end < R.length) setTimeout(() => indexLater(end), 0);
  else document.body.setAttribute("data-indexed", "1");
}

boot(render);
