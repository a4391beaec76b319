/* rs dashboard: live usage from /ems-rs/RT/stream, a peaks chart from
 * /ems-rs/operations/peaks/RM (uPlot), CDR search from /ems-rs/HIST/CDRs/RM/details.
 * Uses the API and nothing else; the token (if any) is kept in localStorage. */
"use strict";

const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("rs.token") || "";
let source = null;

/* The zone for "today", "this hour" and the report's day edges: the browser's unless
 * the user typed another (IANA name, as the API's tz=); "" for UTC. */
function zone() {
  return $("tz").value.trim();
}

function withTz(url) {
  const z = zone();
  if (!z) return url;
  return url + (url.includes("?") ? "&" : "?") + "tz=" + encodeURIComponent(z);
}

function withToken(url) {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

async function api(url) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch(url, { headers });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const why = body && body.error ? body.error : text.trim() || r.statusText;
    throw new Error(r.status + " " + why);
  }
  return body;
}

function setState(el, text, cls) {
  el.textContent = text;
  el.className = "state" + (cls ? " " + cls : "");
}

/* ISO 8601 UTC, to the second, from a datetime-local input (read as local time). */
function isoFromInput(el) {
  if (!el.value) return "";
  return new Date(el.value).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function inputFromDate(el, d) {
  const p = (n) => String(n).padStart(2, "0");
  el.value = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
}

const NUMBERS = ["in_progress", "arrivals_this_hour", "arrivals_today", "peak_today"];

function fillUsage(tbody, rows, key) {
  tbody.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement("tr");
    if (key === "tenant") {
      tr.dataset.tenant = r.tenant;
      cell(tr, r.tenant === "" ? "(none)" : r.tenant, "name");
    } else {
      tr.dataset.component = r.type + " " + r.id;
      cell(tr, r.type, "name");
      cell(tr, r.id, "name");
    }
    for (const n of NUMBERS) cell(tr, String(r[n]), n);
    cell(tr, r.peak_today_at, "peak_today_at");
    tbody.appendChild(tr);
  }
}

async function startStream() {
  if (source) source.close();
  setState($("live-state"), "connecting");
  /* EventSource hides HTTP errors: ask once with fetch so a refusal is explained */
  try {
    const d = await api(withTz("/ems-rs/RT/tenants/usage"));
    fillUsage(document.querySelector("#tenants tbody"), d.tenants, "tenant");
  } catch (e) {
    setState($("live-state"), e.message.startsWith("401")
      ? e.message + ": enter an API token above" : e.message, "error");
    return;
  }
  source = new EventSource(withToken(withTz("/ems-rs/RT/stream")));
  source.addEventListener("tenants", (e) => {
    fillUsage(document.querySelector("#tenants tbody"), JSON.parse(e.data).tenants, "tenant");
    setState($("live-state"), "live " + new Date().toLocaleTimeString(), "live");
  });
  source.addEventListener("components", (e) => {
    fillUsage(document.querySelector("#components tbody"), JSON.parse(e.data).components,
              "component");
  });
  source.onerror = () => setState($("live-state"), "disconnected, retrying", "error");
}

/* Peaks chart */
let chart = null;

async function showPeaks(ev) {
  if (ev) ev.preventDefault();
  const q = new URLSearchParams({ granularity: $("peaks-gran").value, from: isoFromInput($("peaks-from")) });
  if ($("peaks-to").value) q.set("to", isoFromInput($("peaks-to")));
  if ($("peaks-tenant").value) q.set("tenant-id", $("peaks-tenant").value);
  if (zone()) q.set("tz", zone());
  setState($("peaks-state"), "loading");
  try {
    const d = await api("/ems-rs/operations/peaks/RM?" + q);
    const xs = d.buckets.map((b) => Date.parse(b.start) / 1000);
    const data = [xs, d.buckets.map((b) => b.peak), d.buckets.map((b) => b.arrivals)];
    const box = $("peaks-chart");
    if (chart) chart.destroy();
    box.replaceChildren();
    box.dataset.buckets = String(d.buckets.length);
    box.dataset.peakMax = String(Math.max(0, ...data[1]));
    chart = new uPlot({
      width: Math.max(400, box.clientWidth || 800), height: 260,
      series: [{}, { label: "peak", stroke: "#c33", width: 2 },
               { label: "arrivals", stroke: "#36c", width: 1 }],
      axes: [{}, { label: "calls" }],
    }, data, box);
    setState($("peaks-state"), d.buckets.length + " " + d.granularity + " buckets");
  } catch (e) {
    setState($("peaks-state"), e.message, "error");
  }
}

/* CDR search with cursor paging */
const CDR_COLUMNS = ["id", "start_ms", "tenant", "profile", "caller", "dnis", "mcp",
                     "disposition", "sip_status", "duration_ms"];
let cdrQuery = null, cdrNext = null;

function cdrParams(cursor) {
  const q = new URLSearchParams({ from: isoFromInput($("cdr-from")) });
  if ($("cdr-to").value) q.set("to", isoFromInput($("cdr-to")));
  if ($("cdr-tenant").value) q.set("tenant-id", $("cdr-tenant").value);
  q.set("limit", $("cdr-limit").value || "50");
  if (cursor) q.set("cursor", cursor);
  return q;
}

function showValue(k, v) {
  if (v === null || v === undefined) return "";
  if (/_ms$/.test(k) && k !== "duration_ms" && typeof v === "number")
    return new Date(v).toISOString().replace(/\.\d{3}Z$/, "Z");
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

async function searchCdrs(ev, cursor) {
  if (ev) ev.preventDefault();
  const q = cdrParams(cursor);
  const csv = cdrParams(null);
  csv.delete("limit");
  csv.set("format", "csv");
  $("cdr-csv").href = withToken("/ems-rs/HIST/CDRs/RM/details?" + csv);
  setState($("cdr-state"), "loading");
  try {
    const d = await api("/ems-rs/HIST/CDRs/RM/details?" + q);
    const recs = d.records || [];
    const cols = recs.length ? CDR_COLUMNS.filter((c) => c in recs[0]) : CDR_COLUMNS;
    if (recs.length && !cols.length) cols.push(...Object.keys(recs[0]).slice(0, 10));
    const head = document.createElement("tr");
    for (const c of cols) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
    document.querySelector("#cdr-table thead").replaceChildren(head);
    const tbody = document.querySelector("#cdr-table tbody");
    tbody.replaceChildren();
    for (const r of recs) {
      const tr = document.createElement("tr");
      tr.dataset.id = r.id || "";
      for (const c of cols) cell(tr, showValue(c, r[c]), c);
      tbody.appendChild(tr);
    }
    $("cdr-total").textContent = `${recs.length} shown of ${d.total} records`;
    $("cdr-total").dataset.total = String(d.total);
    cdrNext = d.next || null;
    $("cdr-next").disabled = !cdrNext;
    setState($("cdr-state"), "");
  } catch (e) {
    setState($("cdr-state"), e.message, "error");
  }
}

function init() {
  $("token").value = token;
  $("tz").value = localStorage.getItem("rs.tz") ||
    (Intl.DateTimeFormat().resolvedOptions().timeZone || "");
  $("tz-form").addEventListener("submit", (e) => {
    e.preventDefault();
    localStorage.setItem("rs.tz", zone());
    startStream();
  });
  $("auth").addEventListener("submit", (e) => {
    e.preventDefault();
    token = $("token").value.trim();
    localStorage.setItem("rs.token", token);
    startStream();
  });
  const now = new Date(), dayAgo = new Date(now.getTime() - 24 * 3600 * 1000);
  inputFromDate($("peaks-from"), dayAgo);
  inputFromDate($("cdr-from"), dayAgo);
  $("peaks-form").addEventListener("submit", showPeaks);
  $("cdr-form").addEventListener("submit", (e) => searchCdrs(e, null));
  $("cdr-next").addEventListener("click", () => cdrNext && searchCdrs(null, cdrNext));
  startStream();
}

init();
