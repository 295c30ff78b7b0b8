// matdiff page: reads the question, asks the JSON API, shows the answer.
// Every piece of user or server text reaches the page through textContent (no HTML
// parsing of data); mathematics goes through KaTeX with trust: false.  The state lives in
// the URL (?expr=…&wrt=…&let=…&layout=…&convention=…&mode=…).
"use strict";

const $ = (id) => document.getElementById(id);
const FIELDS = ["expr", "wrt", "let", "layout", "convention", "mode"];
let symbols = [];        // the last /api/shapes answer's symbols
let generation = 0;      // drops answers to questions that were since changed
let timer = null;

async function post(endpoint, body) {
  const response = await fetch("/api/" + endpoint, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  let data;
  try { data = await response.json(); } catch (e) { data = {message: "the server sent no JSON"}; }
  return {status: response.status, data};
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function element(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

// ----- declarations (the CLI's --let words) -----------------------------------------

function readLet(text) {
  const decls = new Map();
  for (const part of text.split(";")) {
    const colon = part.indexOf(":");
    if (colon < 0) continue;
    const spec = part.slice(colon + 1).trim();
    for (const name of part.slice(0, colon).split(",")) {
      if (name.trim()) decls.set(name.trim(), spec);
    }
  }
  return decls;
}

function writeLet(decls) {
  return [...decls].map(([name, spec]) => `${name}: ${spec}`).join("; ");
}

function kindOf(sym) {
  if (sym.shape.length === 0) return "scalar";
  if (sym.symmetric) return "symmetric";
  if (sym.shape[1] === 1) return "vector";
  return "matrix";
}

function specOf(kind, rows, cols) {
  if (kind === "scalar") return "scalar";
  if (kind === "vector") return rows ? `vector ${rows}` : "vector";
  if (kind === "symmetric") return rows ? `symmetric ${rows}` : "symmetric";
  return rows && cols ? `${rows}×${cols}` : "matrix";
}

function declare(name, kind, rows, cols) {
  const decls = readLet($("let").value);
  decls.set(name, specOf(kind, rows, cols));
  $("let").value = writeLet(decls);
  schedule(0);
}

function symbolRow(sym) {
  const tr = document.createElement("tr");
  tr.dataset.symbol = sym.name;
  const name = element("td", "", "symbol");
  try {
    katex.render(sym.latex, name, {throwOnError: false, trust: false});
  } catch (e) { name.textContent = sym.unicode; }
  tr.appendChild(name);

  const kind = document.createElement("select");
  kind.className = "kind";
  kind.setAttribute("aria-label", `type of ${sym.name}`);
  for (const k of ["scalar", "vector", "matrix", "symmetric"]) {
    kind.appendChild(element("option", k)).value = k;
  }
  kind.value = kindOf(sym);
  const rows = element("input", undefined, "rows");
  const cols = element("input", undefined, "cols");
  rows.setAttribute("aria-label", `rows of ${sym.name}`);
  cols.setAttribute("aria-label", `columns of ${sym.name}`);
  rows.value = sym.shape.length ? String(sym.shape[0]) : "";
  cols.value = sym.shape.length ? String(sym.shape[1]) : "";
  const sync = () => {
    rows.disabled = kind.value === "scalar";
    cols.disabled = kind.value !== "matrix";
  };
  sync();
  const changed = () => { sync(); declare(sym.name, kind.value, rows.value.trim(), cols.value.trim()); };
  kind.addEventListener("change", changed);
  rows.addEventListener("change", changed);
  cols.addEventListener("change", changed);
  for (const control of [kind, rows, cols]) {
    const td = document.createElement("td");
    td.appendChild(control);
    tr.appendChild(td);
  }
  tr.appendChild(element("td", sym.text + (sym.symmetric ? " (symmetric)" : ""), "inferred"));
  return tr;
}

function showSymbols(list) {
  symbols = list;
  const body = $("symbols").querySelector("tbody");
  clear(body);
  for (const sym of list) body.appendChild(symbolRow(sym));
  $("symbols").hidden = list.length === 0;
  const wrt = $("wrt");
  const wanted = wrt.dataset.wanted || wrt.value;
  clear(wrt);
  for (const sym of list) wrt.appendChild(element("option", sym.unicode)).value = sym.name;
  if (list.some((s) => s.name === wanted)) wrt.value = wanted;
  wrt.dataset.wanted = "";
}

// ----- the answer --------------------------------------------------------------------

function math(latex, data) {
  const wrt = symbols.find((s) => s.name === data.variable);
  const x = wrt ? wrt.latex : data.variable;
  if (data.form === "differential") return `\\mathrm{d}f = ${latex}`;
  if (data.form === "vec/Kronecker form") return `M = ${latex}`;
  if ($("mode").value === "hessian") return `\\nabla^2 f = ${latex}`;
  return `\\frac{\\partial f}{\\partial ${x}} = ${latex}`;
}

function checkLine(check) {
  if (!check) return "not checked";
  const sizes = Object.entries(check.sizes || {}).map(([k, v]) => `${k}=${v}`).join(", ");
  const verdict = check.passed ? "check passed" : "CHECK FAILED";
  return `${verdict}: ${check.method}, ${check.entries} entries at ${sizes || "the given sizes"}, ` +
         `seed ${check.seed}, max error ${Number(check.max_error).toExponential(1)}`;
}

function showAnswer(data) {
  $("failure").hidden = true;
  $("caret").hidden = true;
  $("answer").hidden = false;
  for (const button of document.querySelectorAll("button.copy")) button.textContent = "copy";
  const box = $("math");
  try {
    katex.render(math(data.latex, data), box, {displayMode: true, throwOnError: false, trust: false});
  } catch (e) { box.textContent = data.unicode; }
  box.dataset.unicode = data.unicode;
  $("convention-line").textContent = data.convention;
  const notes = $("notes");
  clear(notes);
  for (const note of data.notes || []) {
    notes.appendChild(element("li", typeof note === "string" ? note : (note.text || JSON.stringify(note))));
  }
  const check = $("check");
  check.textContent = checkLine(data.check);
  check.className = "check " + (!data.check ? "none" : data.check.passed ? "passed" : "failed");
  $("differential").textContent = data.differential;
  $("index").textContent = data.index;
  $("text").textContent = data.result;
  $("latex").textContent = data.latex;
}

function showError(data, expr) {
  $("answer").hidden = true;
  $("failure").hidden = false;
  const where = data.line ? ` (line ${data.line}, column ${data.column})` : "";
  $("error-message").textContent = `${data.error || "error"}: ${data.message}${where}`;
  const caret = $("caret");
  const context = $("error-context");
  context.textContent = "";
  caret.hidden = true;
  if (data.span && data.source === expr) {
    // the caret goes under the input box: the line, and ^ under the span
    const lineStart = expr.lastIndexOf("\n", data.span[0] - 1) + 1;
    let lineEnd = expr.indexOf("\n", data.span[0]);
    if (lineEnd < 0) lineEnd = expr.length;
    const width = Math.max(1, Math.min(data.span[1], lineEnd) - data.span[0]);
    caret.textContent = expr.slice(lineStart, lineEnd) + "\n" +
      " ".repeat(data.span[0] - lineStart) + "^".repeat(width);
    caret.hidden = false;
  } else if (data.context) {
    context.textContent = data.context;
  }
}

function showExtra(which, result) {
  const box = $(which + "-box");
  if (result.status !== 200) { box.hidden = true; return; }   // not asked, 501, or no code
  box.hidden = false;
  const data = result.data;
  if (which === "code") {
    $("code").textContent = typeof data.code === "string" ? data.code : JSON.stringify(data, null, 2);
  } else {
    const list = $("steps");
    clear(list);
    for (const step of data.steps || []) {
      list.appendChild(element("li", typeof step === "string" ? step
        : [step.rule, step.unicode || step.text].filter(Boolean).join(": ") || JSON.stringify(step)));
    }
  }
}

// ----- the question ------------------------------------------------------------------

function question() {
  const q = {};
  for (const f of FIELDS) q[f] = $(f).value;
  q.wrt = q.wrt || $("wrt").dataset.wanted || "";   // kept while the expression has an error
  return q;
}

function saveToUrl(q) {
  const params = new URLSearchParams();
  for (const f of FIELDS) if (q[f]) params.set(f, q[f]);
  history.replaceState(null, "", "?" + params.toString());
}

async function run() {
  const mine = ++generation;
  const q = question();
  saveToUrl(q);
  if (!q.expr.trim()) { $("answer").hidden = true; $("failure").hidden = true; return; }
  $("status").textContent = "deriving…";
  const shapes = await post("shapes", {expr: q.expr, let: q.let});
  if (mine !== generation) return;
  if (shapes.status !== 200) { showError(shapes.data, q.expr); $("status").textContent = ""; return; }
  showSymbols(shapes.data.symbols);
  const body = {expr: q.expr, wrt: $("wrt").value, let: q.let};
  if (q.layout) body.layout = q.layout;
  if (q.mode === "diff") body.convention = q.convention;
  saveToUrl(question());
  // steps: of a derivative (/api/steps has no Hessian); code: the unconstrained derivative
  // in the default layout, so it is not shown beside a result in another convention
  const NONE = {status: 204};
  const codeBody = {expr: q.expr, wrt: body.wrt, let: q.let, hessian: q.mode === "hessian"};
  const [main, steps, code] = await Promise.all([
    post(q.mode, {...body, check: true}),
    q.mode === "diff" ? post("steps", body) : NONE,
    q.mode === "hessian" || q.convention === "unconstrained" ? post("code", codeBody) : NONE]);
  if (mine !== generation) return;
  $("status").textContent = "";
  if (main.status !== 200) { showError(main.data, q.expr); return; }
  showAnswer(main.data);
  showExtra("steps", steps);
  showExtra("code", code);
  document.body.dataset.ready = String(mine);
}

function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(run, delay === undefined ? 400 : delay);
}

function insert(text, back) {
  const input = $("expr");
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.value = input.value.slice(0, start) + text + input.value.slice(end);
  const at = start + text.length - back;
  input.focus();
  input.setSelectionRange(at, at);
  schedule();
}

async function copy(id, button) {
  const text = $(id).textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {   // no clipboard permission: select the text for Ctrl-C
    const range = document.createRange();
    range.selectNodeContents($(id));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  button.textContent = "copied";   // until the next answer
}

async function loadExamples() {
  const response = await fetch("/api/examples");
  const list = await response.json();
  const select = $("examples");
  const groups = new Map();
  list.forEach((e, i) => {
    if (!groups.has(e.section)) {
      const group = document.createElement("optgroup");
      group.label = e.section;
      groups.set(e.section, group);
      select.appendChild(group);
    }
    const label = `${e.expr}   ∂/∂${e.wrt}` + (e.let ? `   (${e.let})` : "");
    groups.get(e.section).appendChild(element("option", label)).value = String(i);
  });
  select.addEventListener("change", () => {
    const e = list[Number(select.value)];
    if (!e) return;
    $("expr").value = e.expr;
    $("let").value = e.let;
    $("wrt").dataset.wanted = e.wrt;
    clear($("wrt"));
    $("mode").value = e.kind === "hessian" ? "hessian" : "diff";
    $("layout").value = e.layout || "";
    $("convention").value = e.convention || "unconstrained";
    schedule(0);
  });
}

function start() {
  const params = new URLSearchParams(location.search);
  for (const f of FIELDS) {
    if (!params.has(f)) continue;
    if (f === "wrt") $("wrt").dataset.wanted = params.get(f);
    else $(f).value = params.get(f);
  }
  $("expr").addEventListener("input", () => schedule());
  $("let").addEventListener("change", () => schedule(0));
  for (const f of ["wrt", "layout", "convention", "mode"]) {
    $(f).addEventListener("change", () => schedule(0));
  }
  for (const button of document.querySelectorAll("#palette button")) {
    button.addEventListener("click", () => insert(button.dataset.insert, Number(button.dataset.back || 0)));
  }
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => copy(button.dataset.copy, button));
  }
  loadExamples();
  if ($("expr").value) schedule(0);
}

document.addEventListener("DOMContentLoaded", start);
