"use strict";
// evalkit report: shared helpers. Every text from the data goes in through textContent
// (text nodes), never as markup; no request is ever made (the page's CSP forbids it anyway).
let DATA = null;
const APP = document.getElementById("app");
const SVGNS = "http://www.w3.org/2000/svg";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// outcome word beside its colour: readable without colour
function badge(outcome) {
  return el("span", { class: "badge o-" + outcome }, outcome);
}

function text(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function pre(value, cls) {
  return el("pre", { class: cls || "text" }, text(value));
}

function usd(x) {
  return x === null || x === undefined ? "unknown" : "$" + x.toFixed(4);
}

function ms(x) {
  return x === null || x === undefined ? "n/a" : Math.round(x) + " ms";
}

function section(title, ...children) {
  return el("section", {}, el("h2", {}, title), ...children);
}

// a table that scrolls sideways inside its own box on a narrow screen
function table(head, rows, cls) {
  return el("div", { class: "scroll" }, el("table", { class: cls || "grid" },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))))));
}

// a bar whose width is a rate in [0, 1]; the figure itself stands beside it in text
function bar(rate) {
  const outer = el("span", { class: "bar", "aria-hidden": "true" });
  const inner = el("span", { class: "bar-in" });
  inner.style.width = (rate === null || rate === undefined ? 0 : 100 * rate) + "%";
  outer.appendChild(inner);
  return outer;
}

function rateTable(title, rows, onPick) {
  if (!rows.length) return null;
  return section(title, table(
    ["name", "pass rate", "", "pass", "fail", "error", "error rate"],
    rows.map(([name, rate, p, f, e, er, raw]) => [
      onPick ? el("button", { class: "link", onclick: () => onPick(name) }, name) : name,
      rate, bar(raw), String(p), String(f), String(e), er,
    ])));
}

function dl(pairs) {
  return el("dl", { class: "meta" }, pairs.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function warnings(list) {
  if (!list || !list.length) return null;
  return el("div", { class: "warnings", role: "alert" },
    list.map((w) => el("p", {}, el("strong", {}, "WARNING: "), w)));
}

// a conversation case's trajectory: each turn's text, its tool calls (name, arguments), each
// result and where it came from, a max_turns stop, the final answer; all of it as text
function trajectoryView(t) {
  let number = 0;
  const calls = t.turns.reduce((n, turn) => n + (turn.calls || []).length, 0);
  return el("div", { class: "traj" },
    el("h5", {}, `trajectory: ${t.turns.length} model turn(s), ${calls} tool call(s)`),
    el("ol", { class: "turns" }, t.turns.map((turn, i) => el("li", { class: "turn" },
      el("div", { class: "role" }, `turn ${i + 1}` + (turn.fin ? ` · ${turn.fin}` : "") + ` · ${turn.tok[0]} in / ${turn.tok[1]} out tokens`),
      turn.text && (turn.calls || turn.text !== t.final) ? pre(turn.text, "text said") : null, // not the final answer twice
      (turn.calls || []).map((c) => el("div", { class: "call" + (c.err ? " call-err" : "") },
        el("div", {}, el("strong", {}, `call #${++number} `), el("code", { class: "tool" }, c.name), c.id ? el("span", { class: "note" }, " id " + c.id) : null),
        pre(c.args, "text args"),
        el("div", { class: "note src" }, (c.err ? "error result" : "result") + " from " + c.src),
        pre(c.res, "text result")))))),
    t.reached ? el("div", { class: "error stop" }, `stopped: reached max_turns (${t.max_turns}) with tool calls pending`) : null,
    el("h5", {}, "final answer"), t.final ? pre(t.final, "text final") : el("p", { class: "note" }, "(empty)"));
}

// word-level diff (Myers, O((N+M)D)); gives up past a budget of edits: say so, never hang
function wordDiff(a, b, maxEdits) {
  const A = a.split(/(\s+)/), B = b.split(/(\s+)/);
  const N = A.length, M = B.length, MAX = Math.min(N + M, maxEdits || 2000), OFF = MAX + 1;
  const V = new Int32Array(2 * MAX + 4), trace = [];
  for (let d = 0; d <= MAX; d++) {
    trace.push(V.slice(OFF - d - 1, OFF + d + 2)); // k from -d-1 to d+1, before step d
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && V[OFF + k - 1] < V[OFF + k + 1]) ? V[OFF + k + 1] : V[OFF + k - 1] + 1;
      let y = x - k;
      while (x < N && y < M && A[x] === B[y]) { x++; y++; }
      V[OFF + k] = x;
      if (x >= N && y >= M) return backtrack(trace, A, B, d);
    }
  }
  return null;
}

function backtrack(trace, A, B, D) {
  const ops = [];
  let x = A.length, y = B.length;
  for (let d = D; d > 0; d--) {
    const V = trace[d], k = x - y, at = (kk) => V[kk + d + 1];
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const px = at(prevK), py = px - prevK;
    while (x > px && y > py) { ops.push(["=", A[--x]]); y--; }
    if (x === px) ops.push(["+", B[--y]]); else ops.push(["-", A[--x]]);
  }
  while (x > 0) { ops.push(["=", A[--x]]); y--; }
  return ops.reverse();
}

function diffView(a, b) {
  const ops = wordDiff(a || "", b || "");
  if (ops === null) return el("p", { class: "note" }, "too different for a word-level diff; both outputs are shown in full above");
  return el("pre", { class: "text diff" }, ops.map(([op, w]) =>
    op === "=" ? w : el(op === "+" ? "ins" : "del", {}, w)));
}

// the embedded data: plain JSON, or (large reports) gzipped JSON in base64, unpacked locally
async function loadData() {
  const node = document.getElementById("evalkit-data");
  if (node.getAttribute("data-encoding") !== "gzip+base64") return JSON.parse(node.textContent);
  const raw = atob(node.textContent), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

async function boot(render) {
  try {
    DATA = await loadData();
    const loaded = performance.now();
    render();
    // when the data was ready and when the page was drawn, in ms since navigation (benchmarks)
    document.body.setAttribute("data-timing", Math.round(loaded) + " " + Math.round(performance.now()));
  } catch (err) {
    APP.textContent = "";
    APP.appendChild(el("p", { class: "warnings" }, "this page could not be drawn: " + err));
    throw err;
  }
  document.body.setAttribute("data-ready", "1");
}
