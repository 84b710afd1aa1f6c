/// The dashboard at `/_local/`: one page, its style and script inline, reading the runner's
/// `/_local/*` endpoints and its server-sent events; nothing is fetched from anywhere else.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Blytz local</title>
<style>
:root { --fg:#1d2330; --muted:#6b7385; --line:#e3e6ec; --bg:#f7f8fa; --accent:#3557d4; --ok:#1f8a4c; --warn:#b7791f; --bad:#c53030; }
* { box-sizing: border-box; }
body { margin:0; font:13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:18px; padding:10px 18px; background:#fff; border-bottom:1px solid var(--line); position:sticky; top:0; z-index:2; }
header h1 { font-size:15px; margin:0; }
nav a { color:var(--muted); text-decoration:none; margin-right:14px; padding:4px 0; }
nav a.active { color:var(--accent); border-bottom:2px solid var(--accent); }
#live { margin-left:auto; color:var(--muted); }
#live.on::before { content:"● "; color:var(--ok); }
main { padding:14px 18px; }
section { display:none; } section.shown { display:block; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
#invocations { table-layout:fixed; } #invocations td { overflow:hidden; text-overflow:ellipsis; }
.panel { contain:content; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
th { font-weight:600; color:var(--muted); background:#fbfbfc; }
tr.clickable { cursor:pointer; } tr.clickable:hover { background:#f0f3fb; } tr.selected { background:#e6ecfb; }
.s2 { color:var(--ok); } .s4 { color:var(--warn); } .s5 { color:var(--bad); font-weight:600; }
.filters { display:flex; gap:8px; margin-bottom:10px; flex-wrap:wrap; }
input, select, textarea, button { font:inherit; padding:4px 7px; border:1px solid var(--line); border-radius:4px; background:#fff; }
button { cursor:pointer; background:var(--accent); color:#fff; border-color:var(--accent); }
button.quiet { background:#fff; color:var(--fg); border-color:var(--line); }
.split { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:14px; }
.panel { background:#fff; border:1px solid var(--line); padding:10px 12px; min-width:0; }
pre { margin:6px 0; padding:8px; background:#f4f5f8; overflow:auto; max-height:340px; font:12px/1.4 ui-monospace, Menlo, monospace; white-space:pre-wrap; word-break:break-all; }
.muted { color:var(--muted); }
.span-row { display:grid; grid-template-columns: 320px 1fr 80px; align-items:center; gap:8px; padding:3px 0; border-bottom:1px dashed var(--line); }
.span-label { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.bar-track { position:relative; height:14px; background:#f1f2f5; }
.bar { position:absolute; top:0; height:14px; border-radius:2px; min-width:2px; }
.tag { display:inline-block; padding:0 5px; border-radius:3px; font-size:11px; background:#eef1f7; color:var(--muted); margin-right:4px; }
.linked { margin-top:10px; font-weight:600; }
#api-ops { max-height:520px; overflow:auto; }
.op { padding:3px 4px; cursor:pointer; } .op:hover { background:#f0f3fb; }
.method { display:inline-block; width:56px; font-weight:600; font-size:11px; }
</style>
</head>
<body>
<header>
  <h1>Blytz local</h1>
  <nav>
    <a href="#functions" id="tab-functions">Functions</a>
    <a href="#invocations" id="tab-invocations">Invocations</a>
    <a href="#trace" id="tab-trace">Trace</a>
    <a href="#events" id="tab-events">Events</a>
    <a href="#logs" id="tab-logs">Logs</a>
    <a href="#api" id="tab-api">API</a>
  </nav>
  <span id="live">connecting…</span>
</header>
<main>
<section id="view-functions">
  <table id="functions"><thead><tr><th>Function</th><th>Service</th><th>Trigger</th><th>Workers (idle/busy/starting)</th><th>Backlog</th><th>Invocations</th><th>Errors</th><th>Cold starts</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>Cold start p50 ms</th></tr></thead><tbody></tbody></table>
</section>
<section id="view-invocations">
  <div class="filters">
    <select id="filter-service"><option value="">every service</option></select>
    <input id="filter-function" placeholder="function" list="function-names">
    <select id="filter-status"><option value="">any status</option><option>2xx</option><option>4xx</option><option>5xx</option><option value="error">errors</option></select>
    <input id="filter-trace" placeholder="trace id" size="34">
    <button class="quiet" id="filter-clear">Clear</button>
    <span class="muted" id="invocation-count"></span>
  </div>
  <datalist id="function-names"></datalist>
  <div class="split">
    <div class="panel" style="padding:0"><table id="invocations"><thead><tr><th>Time</th><th>Function</th><th>Operation</th><th>Status</th><th>ms</th><th></th></tr></thead><tbody></tbody></table></div>
    <div class="panel" id="detail"><span class="muted">Select an invocation to see its request and response.</span></div>
  </div>
</section>
<section id="view-trace">
  <div class="filters"><input id="trace-id" placeholder="trace id" size="34"><button id="trace-open">Open</button><button class="quiet" id="trace-logs">Its logs</button></div>
  <div class="panel" id="trace"><span class="muted">Open a trace from an invocation, or paste its id.</span></div>
</section>
<section id="view-events">
  <table id="queues"><thead><tr><th>Queue function</th><th>Waiting</th><th>In flight</th><th>Dead letters</th><th>Oldest waiting (s)</th></tr></thead><tbody></tbody></table>
  <h3>Dead letters</h3>
  <div class="filters"><button id="dead-replay-all" class="quiet">Replay all</button><button id="dead-purge-all" class="quiet">Purge all</button><span class="muted" id="dead-note"></span></div>
  <table id="dead-letters"><thead><tr><th>#</th><th>Function</th><th>Type</th><th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody></tbody></table>
  <pre id="dead-envelope" hidden></pre>
</section>
<section id="view-logs">
  <div class="filters"><input id="logs-function" placeholder="function" list="function-names"><input id="logs-trace" placeholder="trace id" size="34"><button id="logs-show">Show</button></div>
  <pre id="logs-output" style="max-height:none"></pre>
</section>
<section id="view-api">
  <div class="split">
    <div class="panel"><input id="api-search" placeholder="filter operations" style="width:100%"><div id="api-ops"></div></div>
    <div class="panel">
      <div class="filters">
        <select id="api-user"><option value="">anonymous</option></select>
        <input id="login-email" value="company@demo.blytz.work" size="26"><input id="login-password" type="password" value="blytz-demo-pass" size="14">
        <button class="quiet" id="login">Sign in</button><span class="muted" id="login-note"></span>
      </div>
      <div class="filters"><select id="api-method"><option>GET</option><option>POST</option><option>PUT</option><option>PATCH</option><option>DELETE</option></select>
        <input id="api-path" value="/jobs" style="flex:1"><button id="api-send">Send</button></div>
      <div class="muted" id="api-summary"></div>
      <textarea id="api-body" rows="7" style="width:100%" placeholder="JSON body"></textarea>
      <pre id="api-answer"></pre>
    </div>
  </div>
</section>
</main>
<script>
"use strict";
const $ = (selector) => document.querySelector(selector);
const state = { invocations: [], functions: [], selected: null, openapi: null, users: JSON.parse(localStorage.getItem("blytz-users") || "[]") };
const MAX_ROWS = 200;

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value; else if (key.startsWith("on")) node.addEventListener(key.slice(2), value); else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
}
const statusClass = (status) => "s" + String(status)[0];
const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false }) + "." + String(ms % 1000).padStart(3, "0");
async function getJSON(url, options) { const response = await fetch(url, options); return { status: response.status, body: await response.json().catch(() => null) }; }

// Views
function show() {
  const [view, argument] = (location.hash.slice(1) || "invocations").split("/");
  for (const section of document.querySelectorAll("section")) section.classList.toggle("shown", section.id === "view-" + view);
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.id === "tab-" + view);
  if (view === "trace" && argument) { $("#trace-id").value = argument; loadTrace(argument); }
  if (view === "events") loadQueues();
  if (view === "api") loadAPI();
}
window.addEventListener("hashchange", show);

// Functions
function renderFunctions() {
  const body = $("#functions tbody");
  body.replaceChildren(...state.functions.map((f) => el("tr", { "data-function": f.name },
    el("td", {}, f.name), el("td", {}, f.service), el("td", {}, f.trigger),
    el("td", {}, `${f.workers.total} (${f.workers.idle}/${f.workers.busy}/${f.workers.starting})`), el("td", {}, String(f.backlog)),
    el("td", {}, String(f.invocations)), el("td", { class: f.errors ? "s5" : "" }, String(f.errors)), el("td", {}, String(f.coldStarts)),
    el("td", {}, fmt(f.latencyMs.p50)), el("td", {}, fmt(f.latencyMs.p90)), el("td", {}, fmt(f.latencyMs.p99)), el("td", {}, fmt(f.coldStartMs.p50)))));
  const services = [...new Set(state.functions.map((f) => f.service))].sort();
  const select = $("#filter-service");
  if (select.options.length !== services.length + 1) {
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "every service"), ...services.map((s) => el("option", { value: s }, s)));
    select.value = chosen;
    $("#function-names").replaceChildren(...state.functions.map((f) => el("option", { value: f.name })));
  }
}
const fmt = (value) => value == null ? "–" : value.toFixed(2);

// Invocations
function filters() {
  return { service: $("#filter-service").value, function: $("#filter-function").value.trim(), status: $("#filter-status").value, trace: $("#filter-trace").value.trim().toLowerCase() };
}
function admits(invocation, f) {
  if (f.service && invocation.service !== f.service) return false;
  if (f.function && invocation.function !== f.function) return false;
  if (f.trace && invocation.traceId !== f.trace) return false;
  if (f.status === "error") return invocation.status >= 400;
  if (/^\dxx$/.test(f.status)) return String(invocation.status)[0] === f.status[0];
  return true;
}
async function loadInvocations() {
  const query = new URLSearchParams(Object.entries(filters()).filter(([, v]) => v));
  query.set("limit", MAX_ROWS);
  const { body } = await getJSON("/_local/invocations?" + query);
  state.invocations = body ? body.invocations : [];
  renderInvocations();
}
function row(invocation) {
  return el("tr", { class: "clickable" + (state.selected === invocation.seq ? " selected" : ""), "data-seq": invocation.seq, "data-request-id": invocation.requestId, "data-function": invocation.function, onclick: () => select(invocation.seq) },
    el("td", {}, time(invocation.time)), el("td", {}, invocation.function), el("td", { class: "muted" }, invocation.operation),
    el("td", { class: statusClass(invocation.status) }, String(invocation.status)), el("td", {}, invocation.durationMs.toFixed(1)),
    el("td", {}, invocation.coldStart ? el("span", { class: "tag" }, "cold") : ""));
}
function renderInvocations() {
  $("#invocations tbody").replaceChildren(...state.invocations.map(row));
  $("#invocation-count").textContent = state.invocations.length + " shown";
}
function received(fresh) {
  const f = filters();
  const admitted = fresh.filter((i) => admits(i, f));
  if (!admitted.length) return;
  state.invocations = admitted.concat(state.invocations).slice(0, MAX_ROWS);
  const body = $("#invocations tbody");
  body.prepend(...admitted.map(row));
  while (body.children.length > MAX_ROWS) body.lastChild.remove();
  $("#invocation-count").textContent = state.invocations.length + " shown";
}
async function select(seq) {
  state.selected = seq;
  for (const tr of document.querySelectorAll("#invocations tbody tr")) tr.classList.toggle("selected", Number(tr.dataset.seq) === seq);
  const { status, body } = await getJSON("/_local/invocations/" + seq);
  const detail = $("#detail");
  if (status !== 200) { detail.replaceChildren(el("span", { class: "muted" }, body ? body.detail : "Not kept any more.")); return; }
  const pretty = (value) => typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const part = (title, id, value) => value ? [el("h4", {}, title), el("pre", { id }, pretty(value))] : [];
  const request = body.request || {}, response = body.response || {};
  detail.replaceChildren(
    el("div", {}, el("strong", {}, body.operation), " ", el("span", { class: statusClass(body.status) }, String(body.status)), " ",
      el("span", { class: "muted" }, `${body.function} · ${body.durationMs.toFixed(1)} ms · request ${body.requestId}`)),
    el("div", {}, body.traceId ? el("button", { id: "open-trace", onclick: () => { location.hash = "trace/" + body.traceId; } }, "Open trace") : "",
      " ", el("button", { class: "quiet", id: "open-logs", onclick: () => openLogs(body.function, body.traceId) }, "Logs")),
    ...part("Request", "detail-request", request.method ? { method: request.method, path: request.path, headers: request.headers, body: request.body } : request.body),
    ...part("Response", "detail-response", response.status ? { status: response.status, headers: response.headers, body: response.body } : response.body));
}
for (const id of ["#filter-service", "#filter-status"]) $(id).addEventListener("change", loadInvocations);
for (const id of ["#filter-function", "#filter-trace"]) $(id).addEventListener("input", debounce(loadInvocations, 250));
$("#filter-clear").addEventListener("click", () => { for (const id of ["#filter-service", "#filter-function", "#filter-status", "#filter-trace"]) $(id).value = ""; loadInvocations(); });
function debounce(f, ms) { let timer; return (...a) => { clearTimeout(timer); timer = setTimeout(() => f(...a), ms); }; }

// Traces
const colors = ["#3557d4", "#1f8a4c", "#b7791f", "#8e44ad", "#c53030", "#16808b", "#6b7385", "#d35400"];
const serviceColor = {};
const colorOf = (service) => serviceColor[service] ??= colors[Object.keys(serviceColor).length % colors.length];
async function loadTrace(traceId) {
  const panel = $("#trace");
  const { status, body } = await getJSON("/_local/traces/" + encodeURIComponent(traceId.trim().toLowerCase()));
  if (status !== 200) { panel.replaceChildren(el("span", { class: "muted" }, body ? body.detail : "No such trace.")); return; }
  const spans = body.spans;
  const start = Math.min(...spans.map((s) => s.startNs)), end = Math.max(...spans.map((s) => s.endNs));
  const total = Math.max(end - start, 1);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map();
  for (const span of spans) { const key = byId.has(span.parentSpanId) ? span.parentSpanId : ""; if (!children.has(key)) children.set(key, []); children.get(key).push(span); }
  const rows = [];
  const visit = (span, depth) => { rows.push([span, depth]); for (const child of children.get(span.spanId) || []) visit(child, depth + 1); };
  const roots = children.get("") || [];
  const main = roots.filter((s) => s.traceId === traceId.toLowerCase()), linked = roots.filter((s) => s.traceId !== traceId.toLowerCase());
  for (const root of main) visit(root, 0);
  const mainCount = rows.length;
  for (const root of linked) visit(root, 0);
  const render = ([span, depth], index) => el("div", { class: "span-row", "data-service": span.service, "data-name": span.name, "data-kind": span.kind, "data-trace": span.traceId },
    el("div", { class: "span-label", title: JSON.stringify(span.attributes, null, 1), style: `padding-left:${depth * 14}px` },
      el("span", { class: "tag", style: `color:${colorOf(span.service)}` }, span.service), span.name, span.links.length ? el("span", { class: "tag" }, "linked") : ""),
    el("div", { class: "bar-track" }, el("div", { class: "bar", style: `left:${(span.startNs - start) / total * 100}%;width:${Math.max((span.endNs - span.startNs) / total * 100, 0.3)}%;background:${span.error ? "#c53030" : colorOf(span.service)}` })),
    el("div", { class: "muted" }, ((span.endNs - span.startNs) / 1e6).toFixed(2) + " ms"));
  panel.replaceChildren(
    el("div", { class: "muted" }, `${spans.length} spans · ${(total / 1e6).toFixed(1)} ms · services: ${[...new Set(spans.map((s) => s.service))].join(", ")}`),
    ...rows.slice(0, mainCount).map(render),
    ...(rows.length > mainCount ? [el("div", { class: "linked" }, "Deliveries and consumers of its events"), ...rows.slice(mainCount).map(render)] : []));
}
$("#trace-open").addEventListener("click", () => {
  const id = $("#trace-id").value.trim();
  if (location.hash === "#trace/" + id) loadTrace(id); else location.hash = "trace/" + id;
});
$("#trace-logs").addEventListener("click", () => openLogs("", $("#trace-id").value.trim()));

// Events
async function loadQueues() {
  const { body } = await getJSON("/_local/queues");
  if (!body) return;
  $("#queues tbody").replaceChildren(...body.queues.map((q) => el("tr", { "data-function": q.function },
    el("td", {}, q.function), el("td", {}, String(q.ready)), el("td", {}, String(q.inFlight)), el("td", { class: q.dead ? "s5" : "" }, String(q.dead)), el("td", {}, q.oldestAgeSeconds.toFixed(1)))));
  $("#dead-note").textContent = body.deadLettersKept ? `${body.deadLetters.length} dead letters` : "Dead letters live in SQS on this runner.";
  $("#dead-letters tbody").replaceChildren(...body.deadLetters.map((d) => el("tr", { class: "dead clickable", "data-seq": d.seq, "data-event-id": d.eventId, onclick: () => { const pre = $("#dead-envelope"); pre.hidden = false; pre.textContent = JSON.stringify(JSON.parse(d.envelope), null, 2); } },
    el("td", {}, String(d.seq)), el("td", {}, d.function), el("td", {}, d.type), el("td", {}, String(d.attempts)), el("td", { class: "muted" }, (d.lastError || "").slice(0, 120)),
    el("td", {}, el("button", { class: "replay", onclick: (e) => { e.stopPropagation(); deadLetters("replay", [d.seq]); } }, "Replay"), " ",
      el("button", { class: "quiet purge", onclick: (e) => { e.stopPropagation(); deadLetters("purge", [d.seq]); } }, "Purge")))));
}
async function deadLetters(action, seqs) {
  const all = seqs || [...document.querySelectorAll("#dead-letters tr.dead")].map((tr) => Number(tr.dataset.seq));
  await getJSON("/_local/dead-letters/" + action, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ seqs: all }) });
  loadQueues();
}
$("#dead-replay-all").addEventListener("click", () => deadLetters("replay"));
$("#dead-purge-all").addEventListener("click", () => deadLetters("purge"));

// Logs
function openLogs(fn, trace) { $("#logs-function").value = fn || ""; $("#logs-trace").value = trace || ""; location.hash = "logs"; loadLogs(); }
async function loadLogs() {
  const query = new URLSearchParams();
  if ($("#logs-function").value.trim()) query.set("function", $("#logs-function").value.trim());
  if ($("#logs-trace").value.trim()) query.set("trace", $("#logs-trace").value.trim());
  const text = await (await fetch("/_local/logs?" + query)).text();
  $("#logs-output").textContent = text.split("\n").filter(Boolean).map((line) => {
    try { const l = JSON.parse(line); const { time, level, service, function: f, message, ...rest } = l; return `${time} ${level.padEnd(7)} ${service}${f ? "/" + f : ""}  ${message}  ${Object.keys(rest).length ? JSON.stringify(rest) : ""}`; } catch { return line; }
  }).join("\n") || "(no lines)";
}
$("#logs-show").addEventListener("click", loadLogs);

// API
async function loadAPI() {
  if (state.openapi) return;
  const { body } = await getJSON("/openapi.json");
  state.openapi = body;
  renderUsers();
  renderOps();
}
function operations() {
  const ops = [];
  for (const [path, item] of Object.entries(state.openapi?.paths || {})) for (const [method, op] of Object.entries(item)) {
    if (["get", "post", "put", "patch", "delete"].includes(method)) ops.push({ path, method: method.toUpperCase(), op });
  }
  return ops;
}
function renderOps() {
  const needle = $("#api-search").value.toLowerCase();
  $("#api-ops").replaceChildren(...operations().filter((o) => (o.method + " " + o.path + " " + (o.op.operationId || "")).toLowerCase().includes(needle)).map((o) =>
    el("div", { class: "op", "data-operation": o.op.operationId || "", onclick: () => choose(o) }, el("span", { class: "method" }, o.method), o.path, " ", el("span", { class: "muted" }, o.op.summary || o.op.operationId || ""))));
}
function choose(o) {
  $("#api-method").value = o.method; $("#api-path").value = o.path;
  const schema = resolve(o.op.requestBody?.content?.["application/json"]?.schema);
  $("#api-body").value = schema ? JSON.stringify(example(schema), null, 2) : "";
  $("#api-summary").textContent = (o.op.summary || o.op.operationId || "") + (o.op.security && o.op.security.length === 0 ? " · public" : " · needs a signed-in user");
}
function resolve(schema) { let s = schema; for (let i = 0; s && s.$ref && i < 10; i++) s = s.$ref.split("/").slice(1).reduce((a, k) => a?.[k], state.openapi); return s; }
function example(schema, depth = 0) {
  schema = resolve(schema) || {};
  if (schema.example !== undefined) return schema.example;
  if (schema.enum) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "object" || schema.properties) { const out = {}; if (depth < 4) for (const k of schema.required || Object.keys(schema.properties || {})) out[k] = example(schema.properties?.[k], depth + 1); return out; }
  if (type === "array") return depth < 4 ? [example(schema.items, depth + 1)] : [];
  if (type === "integer" || type === "number") return schema.minimum ?? 0;
  if (type === "boolean") return false;
  return schema.format === "uuid" ? "00000000-0000-0000-0000-000000000000" : "";
}
function renderUsers() {
  const select = $("#api-user"), chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "anonymous"), ...state.users.map((u, i) => el("option", { value: String(i) }, u.email)));
  select.value = chosen;
}
$("#api-search").addEventListener("input", renderOps);
$("#login").addEventListener("click", async () => {
  const login = operations().find((o) => o.method === "POST" && /\/login$/.test(o.path));
  if (!login) { $("#login-note").textContent = "The API has no sign-in operation."; return; }
  const email = $("#login-email").value.trim();
  const answer = await send("POST", login.path, JSON.stringify({ email, password: $("#login-password").value }), null);
  const token = answer.body && answer.body.accessToken;
  if (!token) { $("#login-note").textContent = `Sign-in failed (${answer.status}).`; return; }
  state.users = state.users.filter((u) => u.email !== email).concat([{ email, token }]);
  localStorage.setItem("blytz-users", JSON.stringify(state.users));
  renderUsers();
  $("#api-user").value = String(state.users.length - 1);
  $("#login-note").textContent = "Signed in as " + email;
});
async function send(method, path, body, token) {
  const base = state.openapi?.servers?.[0]?.url || "/api";
  const headers = { accept: "application/json" };
  if (body) headers["content-type"] = "application/json";
  if (token) headers.authorization = "Bearer " + token;
  const response = await fetch(base + path, { method, headers, body: body || undefined });
  const text = await response.text();
  let parsed = null; try { parsed = JSON.parse(text); } catch {}
  return { status: response.status, requestId: response.headers.get("x-request-id"), body: parsed, text };
}
$("#api-send").addEventListener("click", async () => {
  const user = state.users[Number($("#api-user").value)];
  const method = $("#api-method").value, body = ["GET", "DELETE"].includes(method) ? null : $("#api-body").value.trim() || null;
  const answer = await send(method, $("#api-path").value.trim(), body, user && $("#api-user").value !== "" ? user.token : null);
  const out = $("#api-answer");
  out.dataset.status = answer.status;
  out.textContent = `${answer.status} · request ${answer.requestId}\n\n` + (answer.body ? JSON.stringify(answer.body, null, 2) : answer.text);
});

// Live updates
function connect() {
  const source = new EventSource("/_local/stream");
  source.addEventListener("open", () => { $("#live").className = "on"; $("#live").textContent = "live"; });
  source.addEventListener("error", () => { $("#live").className = ""; $("#live").textContent = "reconnecting…"; });
  source.addEventListener("functions", (e) => { state.functions = JSON.parse(e.data); renderFunctions(); });
  source.addEventListener("invocations", (e) => { received(JSON.parse(e.data)); if (location.hash === "#events") loadQueues(); });
}
show();
loadInvocations();
connect();
</script>
</body>
</html>
"""#
}
