// uptake's dashboard: pages over uptake-server's JSON API, through the
// session cookie (HttpOnly: never seen here) and the session's CSRF token,
// sent on every request that changes state. What a role may do is decided
// by the server; buttons a role may not use are only hidden for comfort.
import { h, render } from "preact";
import { useEffect, useRef, useState, useCallback } from "preact/hooks";
import htm from "htm";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";

const html = htm.bind(h);
let csrf = null;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch("/api/v1/" + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!r.ok) {
    const e = data && data.error ? data.error : { code: "HTTP", message: r.statusText };
    throw new ApiError(r.status, e.code, e.message);
  }
  return data;
}

// ---- small helpers ------------------------------------------------------
const fmtTime = (t) => (t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z" : "never");
const short = (s) => (s ? s.slice(0, 12) + "…" : "-");
const may = (role, perm) =>
  ({
    viewer: ["read"],
    operator: ["read", "operate"],
    "release-manager": ["read", "release"],
    admin: ["read", "operate", "release", "admin"],
  })[role]?.includes(perm) ?? false;

function useApi(paths, deps = [], every = 0) {
  const [state, setState] = useState({ data: null, error: null });
  const load = useCallback(async () => {
    try {
      const data = await Promise.all(paths.map((p) => api("GET", p)));
      setState({ data, error: null });
    } catch (e) {
      setState((s) => ({ data: s.data, error: e }));
    }
  }, deps);
  useEffect(() => {
    load();
    if (!every) return undefined;
    const t = setInterval(load, every);
    return () => clearInterval(t);
  }, [load]);
  return [state.data, state.error, load];
}

function Status({ error, data }) {
  if (error) return html`<p class="error" role="alert">${error.status || ""} ${error.message}</p>`;
  if (!data) return html`<p aria-live="polite">Loading…</p>`;
  return null;
}

function Badge({ kind, children }) {
  return html`<span class=${"badge badge-" + kind}>${children}</span>`;
}

function Stat({ label, value, id }) {
  return html`<div class="stat"><span class="stat-value" data-stat=${id}>${value}</span><span class="stat-label">${label}</span></div>`;
}

// A line chart (uPlot on a canvas) with the same numbers in a table.
function Chart({ title, series, xs, ys, ylabel, id, stepped }) {
  const ref = useRef(null);
  useEffect(() => {
    if (!ref.current || !xs.length) return undefined;
    const width = Math.max(320, Math.min(ref.current.clientWidth || 640, 900));
    const palette = ["#1a4f8b", "#a3320b", "#2f6b2f", "#6b2f6b"];
    const plot = new uPlot(
      {
        width,
        height: 220,
        title,
        scales: { x: { time: true } },
        axes: [{ stroke: "#222" }, { stroke: "#222", label: ylabel }],
        series: [
          {},
          ...series.map((name, i) => ({
            label: name,
            stroke: palette[i % palette.length],
            width: 2,
            paths: stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
          })),
        ],
      },
      [xs, ...ys],
      ref.current,
    );
    return () => plot.destroy();
  }, [JSON.stringify([xs, ys, series])]);
  return html`<figure class="chart" id=${id}>
    <div ref=${ref} role="img" aria-label=${title + " (chart; the same numbers are in the table below)"}></div>
    <details>
      <summary>${title}: the numbers</summary>
      <table>
        <thead><tr><th scope="col">time</th>${series.map((s) => html`<th scope="col">${s}</th>`)}</tr></thead>
        <tbody>${xs.map((x, i) => html`<tr><td>${fmtTime(x)}</td>${ys.map((y) => html`<td>${y[i] ?? ""}</td>`)}</tr>`)}</tbody>
      </table>
    </details>
  </figure>`;
}

// ---- login --------------------------------------------------------------
function Login({ onLogin }) {
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api("POST", "session", { user, password });
      csrf = s.csrf;
      onLogin(s);
    } catch (e) {
      setError(e.status === 429 ? "Too many failed logins; try again later." : e.message);
    }
    setBusy(false);
  };
  return html`<main id="main" tabindex="-1" class="login">
    <h1>uptake</h1>
    <form onSubmit=${submit} aria-describedby="login-error">
      <label for="login-user">User name</label>
      <input id="login-user" name="user" autocomplete="username" required value=${user} onInput=${(e) => setUser(e.target.value)} />
      <label for="login-password">Password</label>
      <input id="login-password" name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <button type="submit" disabled=${busy}>Log in</button>
      <p id="login-error" class="error" role="alert">${error || ""}</p>
    </form>
  </main>`;
}

// ---- fleet --------------------------------------------------------------
function Fleet() {
  const [data, error] = useApi(["devices", "reports/support", "reports/inventory", "alerts?open=1"]);
  const [query, setQuery] = useState("");
  const [product, setProduct] = useState("");
  const [support, setSupport] = useState("");
  if (!data) return html`<${Status} error=${error} data=${data} />`;
  const [devices, sup, inv, alerts] = data;
  const byId = Object.fromEntries(sup.devices.map((d) => [d.id, d]));
  const openBy = {};
  for (const a of alerts.alerts) openBy[a.device] = (openBy[a.device] || 0) + 1;
  const products = [...new Set(sup.devices.map((d) => d.product || "(none)"))].sort();
  const statuses = [...new Set(sup.devices.map((d) => d.status))].sort();
  const grid = {};
  for (const d of sup.devices) {
    const p = d.product || "(none)";
    grid[p] = grid[p] || {};
    grid[p][d.status] = (grid[p][d.status] || 0) + 1;
  }
  const q = query.trim().toLowerCase();
  const rows = devices.devices.filter((d) => {
    const s = byId[d.id] || {};
    const runs = d.ecus.map((e) => e.installed?.name || "").join(" ");
    if (product && (s.product || "(none)") !== product) return false;
    if (support && s.status !== support) return false;
    return !q || (d.id + " " + (s.product || "") + " " + runs).toLowerCase().includes(q);
  });
  return html`<main id="main" tabindex="-1">
    <h1>Fleet</h1>
    <div class="stats">
      <${Stat} id="devices" label="devices" value=${devices.devices.length} />
      <${Stat} id="ecus" label="ECUs" value=${inv.ecus} />
      <${Stat} id="open-alerts" label="open alerts" value=${alerts.alerts.length} />
      <${Stat} id="ended" label="out of support" value=${sup.devices.filter((d) => d.status === "ended").length} />
    </div>
    <section aria-labelledby="by-product">
      <h2 id="by-product">Devices by product and support status</h2>
      <table id="product-table">
        <thead><tr><th scope="col">product</th>${statuses.map((s) => html`<th scope="col">${s}</th>`)}</tr></thead>
        <tbody>${products.map((p) => html`<tr><th scope="row">${p}</th>${statuses.map((s) => html`<td data-product=${p} data-status=${s}>${grid[p][s] || 0}</td>`)}</tr>`)}</tbody>
      </table>
    </section>
    <section aria-labelledby="by-release">
      <h2 id="by-release">What runs, by release</h2>
      <table id="release-table">
        <thead><tr><th scope="col">release</th><th scope="col">hardware id</th><th scope="col">ECUs</th><th scope="col">devices</th><th scope="col">published</th></tr></thead>
        <tbody>${inv.images.map((i) => html`<tr><td>${i.target || i.installed}</td><td>${i.hardware_id}</td><td data-release-ecus=${i.target || i.installed}>${i.ecus}</td><td>${i.devices}</td><td>${i.published ? "yes" : html`<${Badge} kind="bad">no</${Badge}>`}</td></tr>`)}</tbody>
      </table>
    </section>
    <section aria-labelledby="device-list">
      <h2 id="device-list">Devices</h2>
      <div class="filters">
        <label for="f-search">Search</label>
        <input id="f-search" type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} placeholder="device, product or release" />
        <label for="f-product">Product</label>
        <select id="f-product" value=${product} onChange=${(e) => setProduct(e.target.value)}>
          <option value="">all</option>${products.map((p) => html`<option value=${p}>${p}</option>`)}
        </select>
        <label for="f-support">Support</label>
        <select id="f-support" value=${support} onChange=${(e) => setSupport(e.target.value)}>
          <option value="">all</option>${statuses.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </div>
      <table id="device-table">
        <thead><tr><th scope="col">device</th><th scope="col">product</th><th scope="col">support</th><th scope="col">last report</th><th scope="col">runs</th><th scope="col">open alerts</th></tr></thead>
        <tbody>${rows.map((d) => {
          const s = byId[d.id] || {};
          return html`<tr data-device=${d.id}>
            <td><a href=${"#/device/" + encodeURIComponent(d.id)}>${d.id}</a></td>
            <td>${s.product || "-"}</td>
            <td><${Badge} kind=${s.status === "ended" ? "bad" : s.status === "ending" ? "warn" : "ok"}>${s.status || "unknown"}</${Badge}></td>
            <td>${fmtTime(d.last_manifest)}</td>
            <td>${d.ecus.map((e) => e.installed?.name || "-").join(", ")}</td>
            <td>${openBy[d.id] || 0}</td>
          </tr>`;
        })}</tbody>
      </table>
      <p class="muted" id="device-count">${rows.length} of ${devices.devices.length} devices shown</p>
    </section>
  </main>`;
}

// ---- device -------------------------------------------------------------
function Device({ id }) {
  const e = encodeURIComponent(id);
  const [data, error] = useApi(["devices/" + e, "devices/" + e + "/manifests", "alerts?device=" + e, "reports/support"], [id]);
  if (!data) return html`<${Status} error=${error} data=${data} />`;
  const [d, hist, alerts, sup] = data;
  const s = sup.devices.find((x) => x.id === id) || {};
  return html`<main id="main" tabindex="-1">
    <p><a href="#/fleet">← Fleet</a></p>
    <h1>Device ${d.id}</h1>
    <section aria-labelledby="support-h">
      <h2 id="support-h">Support</h2>
      <dl class="facts">
        <dt>product</dt><dd>${s.product || "-"}</dd>
        <dt>manufactured</dt><dd>${s.manufactured || "-"}</dd>
        <dt>placed on the market</dt><dd>${s.placed_on_market || "-"}</dd>
        <dt>support ends</dt><dd id="support-end">${s.support_end || "-"}</dd>
        <dt>status</dt><dd>${s.status || "unknown"}${s.days_left ? ` (${s.days_left} days left)` : ""}</dd>
        <dt>automatic updates</dt><dd>${d.auto_update ? "on" : "off"}</dd>
        <dt>last verified manifest</dt><dd>${fmtTime(d.last_manifest)}</dd>
      </dl>
    </section>
    <section aria-labelledby="ecus-h">
      <h2 id="ecus-h">ECUs</h2>
      <table id="ecu-table">
        <thead><tr><th scope="col">serial</th><th scope="col">hardware id</th><th scope="col">runs</th><th scope="col">sha256</th><th scope="col">report counter</th><th scope="col">last report</th></tr></thead>
        <tbody>${d.ecus.map((c) => html`<tr><td>${c.serial}${c.primary ? " (primary)" : ""}</td><td>${c.hardware_id}</td><td>${c.installed?.name || "-"}</td><td><code title=${c.installed?.sha256 || ""}>${short(c.installed?.sha256)}</code></td><td>${c.report_counter}</td><td>${c.last_report ? c.last_report.status + ", " + fmtTime(c.last_report.at) : "-"}</td></tr>`)}</tbody>
      </table>
    </section>
    <section aria-labelledby="hist-h">
      <h2 id="hist-h">Signed reports</h2>
      <p class="muted">Each manifest verified with the primary's key when it arrived; "accepted": the ECU's own signed report was accepted too.</p>
      <table id="history-table">
        <thead><tr><th scope="col">received</th><th scope="col">manifest sha256</th><th scope="col">ECU</th><th scope="col">image</th><th scope="col">image sha256</th><th scope="col">counter</th><th scope="col">accepted</th></tr></thead>
        <tbody>${hist.manifests.flatMap((m) => m.reports.map((r) => html`<tr><td>${fmtTime(m.received)}</td><td><code title=${m.sha256}>${short(m.sha256)}</code></td><td>${r.ecu}</td><td>${r.image}</td><td><code title=${r.sha256}>${short(r.sha256)}</code></td><td>${r.report_counter ?? "-"}</td><td>${r.accepted ? "yes" : html`<${Badge} kind="bad">no</${Badge}>`}</td></tr>`))}</tbody>
      </table>
    </section>
    <section aria-labelledby="inst-h">
      <h2 id="inst-h">Installation reports</h2>
      ${d.installation_reports.length === 0
        ? html`<p class="muted">none</p>`
        : html`<table id="install-table">
            <thead><tr><th scope="col">at</th><th scope="col">correlation id</th><th scope="col">result</th></tr></thead>
            <tbody>${d.installation_reports.map((r) => html`<tr><td>${fmtTime(r.at)}</td><td><code>${r.correlation_id}</code></td><td>${r.success ? html`<${Badge} kind="ok">success</${Badge}>` : html`<${Badge} kind="bad">failed</${Badge}>`} ${r.report?.report?.result?.description || ""}</td></tr>`)}</tbody>
          </table>`}
    </section>
    <section aria-labelledby="alerts-h">
      <h2 id="alerts-h">Alerts</h2>
      <${AlertTable} alerts=${alerts.alerts} />
    </section>
  </main>`;
}

// ---- alerts -------------------------------------------------------------
function AlertTable({ alerts, onAck, canAck }) {
  if (!alerts.length) return html`<p class="muted">none</p>`;
  return html`<table class="alert-table">
    <thead><tr><th scope="col">id</th><th scope="col">kind</th><th scope="col">device</th><th scope="col">message</th><th scope="col">last seen</th><th scope="col">count</th><th scope="col">state</th></tr></thead>
    <tbody>${alerts.map((a) => html`<tr data-alert=${a.id}>
      <td>${a.id}</td><td>${a.kind}</td><td><a href=${"#/device/" + encodeURIComponent(a.device)}>${a.device}</a></td>
      <td class="msg">${a.message}</td><td>${fmtTime(a.last_seen)}</td><td>${a.count}</td>
      <td>${a.open
        ? canAck
          ? html`<button type="button" data-ack=${a.id} onClick=${() => onAck(a.id)} aria-label=${"Acknowledge alert " + a.id}>Acknowledge</button>`
          : html`<${Badge} kind="warn">open</${Badge}>`
        : html`<${Badge} kind="ok">acknowledged${a.acknowledged_by ? " by " + a.acknowledged_by : ""}</${Badge}>`}</td>
    </tr>`)}</tbody>
  </table>`;
}

function Alerts({ session }) {
  const [onlyOpen, setOnlyOpen] = useState(true);
  const [msg, setMsg] = useState(null);
  const [data, error, reload] = useApi([onlyOpen ? "alerts?open=1" : "alerts"], [onlyOpen], 5000);
  const ack = async (id) => {
    try {
      await api("POST", "alerts/" + id + "/ack", {});
      setMsg({ ok: true, text: "Alert " + id + " acknowledged." });
    } catch (e) {
      setMsg({ ok: false, text: e.status + " " + e.message });
    }
    reload();
  };
  return html`<main id="main" tabindex="-1">
    <h1>Alerts</h1>
    <p><label><input type="checkbox" id="only-open" checked=${onlyOpen} onChange=${(e) => setOnlyOpen(e.target.checked)} /> open only</label>
      <a class="export" href="/api/v1/alerts?format=jsonl" download="alerts.jsonl">Export (JSON lines)</a></p>
    <p class=${msg?.ok ? "ok" : "error"} role="status">${msg?.text || ""}</p>
    <${Status} error=${error} data=${data} />
    ${data && html`<${AlertTable} alerts=${data[0].alerts} onAck=${ack} canAck=${may(session.role, "operate")} />`}
  </main>`;
}

// ---- campaigns ----------------------------------------------------------
const STATES = ["pending", "assigned", "downloading", "downloaded", "installing", "awaiting_reboot", "succeeded", "already_installed", "failed", "rolled_back", "cancelled"];

function Campaigns({ session }) {
  const [data, error, reload] = useApi(["campaigns"], [], 3000);
  // whether a campaign waits for approvals is in its stored spec
  const [specs, setSpecs] = useState({});
  useEffect(() => {
    for (const c of data ? data[0].campaigns : [])
      if (!(c.id in specs))
        api("GET", "campaigns/" + c.id)
          .then((d) => setSpecs((s) => ({ ...s, [c.id]: d.spec || {} })))
          .catch(() => {});
  }, [data]);
  const [msg, setMsg] = useState(null);
  const act = async (c, action, body = {}) => {
    try {
      await api("POST", "campaigns/" + c.id + "/" + action, body);
      setMsg({ ok: true, text: `Campaign ${c.id}: ${action} done.` });
    } catch (e) {
      setMsg({ ok: false, text: `Campaign ${c.id}: ${action}: ${e.status} ${e.message}` });
    }
    reload();
  };
  const operate = may(session.role, "operate");
  return html`<main id="main" tabindex="-1">
    <h1>Campaigns</h1>
    <p class=${msg?.ok ? "ok" : "error"} role="status">${msg?.text || ""}</p>
    <${Status} error=${error} data=${data} />
    ${data && data[0].campaigns.length === 0 && html`<p class="muted">No campaigns.</p>`}
    ${data && data[0].campaigns.map((c) => html`<section class="card" data-campaign=${c.id} aria-labelledby=${"c" + c.id}>
      <h2 id=${"c" + c.id}>${c.name} <${Badge} kind=${c.status === "running" ? "ok" : c.status === "finished" ? "ok" : "warn"}><span data-campaign-status>${c.status}</span></${Badge}></h2>
      <p class="muted">campaign ${c.id}, stage ${c.stage} of ${c.stages_total}${c.security ? ", security fast path" : ""}${c.reason ? " — " + c.reason : ""}</p>
      ${c.stages.map((s) => {
        const total = s.ecus || 0;
        return html`<div class="stage">
          <div class="stage-head">Stage ${s.stage}: ${s.state} — ${s.succeeded} of ${total} succeeded, ${s.failed} failed</div>
          <div class="bar" role="progressbar" aria-label=${"stage " + s.stage + " progress"} aria-valuemin="0" aria-valuemax=${total} aria-valuenow=${s.succeeded}>
            <span class="bar-ok" style=${{ width: total ? (100 * s.succeeded) / total + "%" : "0" }}></span>
            <span class="bar-bad" style=${{ width: total ? (100 * s.failed) / total + "%" : "0" }}></span>
          </div>
        </div>`;
      })}
      <table class="counts">
        <thead><tr>${STATES.map((s) => html`<th scope="col">${s.replace("_", " ")}</th>`)}</tr></thead>
        <tbody><tr>${STATES.map((s) => html`<td data-count=${s}>${c.totals[s] ?? 0}</td>`)}</tr></tbody>
      </table>
      ${operate && html`<div class="actions">
        ${c.status === "running" && html`<button type="button" onClick=${() => act(c, "pause")}>Pause</button>`}
        ${(c.status === "paused" || c.status === "stopped") && html`<button type="button" onClick=${() => act(c, "resume")}>Resume</button>`}
        ${c.status === "created" && html`<button type="button" onClick=${() => act(c, "start")}>Start</button>`}
        ${specs[c.id]?.approval && c.approved < c.stages_total && !["finished", "cancelled"].includes(c.status) && html`<button type="button" onClick=${() => act(c, "approve", { stage: Math.min(c.stages_total, Math.max(c.stage, c.approved + 1)) })}>Approve stage ${Math.min(c.stages_total, Math.max(c.stage, c.approved + 1))}</button>`}
        ${!["finished", "cancelled"].includes(c.status) && html`<button type="button" class="danger" onClick=${() => confirm(`Cancel campaign ${c.id}? Updated ECUs stay; every other assignment is withdrawn.`) && act(c, "cancel")}>Cancel</button>`}
      </div>`}
    </section>`)}
  </main>`;
}

// ---- CRA ----------------------------------------------------------------
function supportSeries(devices) {
  const ends = devices.filter((d) => d.support_end).map((d) => Date.parse(d.support_end + "T00:00:00Z") / 1000).sort((a, b) => a - b);
  if (!ends.length) return null;
  const xs = [ends[0] - 86400 * 30];
  const ys = [ends.length];
  ends.forEach((t, i) => {
    if (xs[xs.length - 1] === t) ys[ys.length - 1] = ends.length - i - 1;
    else {
      xs.push(t);
      ys.push(ends.length - i - 1);
    }
  });
  return { xs, ys: [ys] };
}

function adoptionSeries(rel, now) {
  const xs = [rel.published];
  const ys = [0];
  for (const p of rel.points) {
    if (p.at <= xs[xs.length - 1]) ys[ys.length - 1] = p.patched;
    else {
      xs.push(p.at);
      ys.push(p.patched);
    }
  }
  if (now > xs[xs.length - 1]) {
    xs.push(now);
    ys.push(ys[ys.length - 1]);
  }
  return { xs, ys: [ys] };
}

function Cra() {
  const [data, error] = useApi(["reports/support", "reports/patch-status", "reports/adoption", "reports/vulns", "reports/art14"]);
  if (!data) return html`<${Status} error=${error} data=${data} />`;
  const [sup, patch, adoption, vulns, art14] = data;
  const ss = supportSeries(sup.devices);
  const affected = {};
  for (const d of vulns.devices) for (const v of d.open) (affected[v] = affected[v] || []).push(d.id);
  return html`<main id="main" tabindex="-1">
    <h1>CRA evidence</h1>
    <section aria-labelledby="sup-h">
      <h2 id="sup-h">Support periods</h2>
      ${ss && html`<${Chart} id="support-chart" title="Devices still in support" series=${["devices in support"]} xs=${ss.xs} ys=${ss.ys} ylabel="devices" stepped=${true} />`}
      <table id="support-products">
        <thead><tr><th scope="col">product</th><th scope="col">support years</th><th scope="col">devices</th><th scope="col">last obligation ends</th></tr></thead>
        <tbody>${sup.products.map((p) => html`<tr><td>${p.name}</td><td>${p.support_years}</td><td>${p.devices}</td><td>${p.last_obligation_ends || "-"}</td></tr>`)}</tbody>
      </table>
    </section>
    <section aria-labelledby="patch-h">
      <h2 id="patch-h">Security releases</h2>
      <table id="patch-table">
        <thead><tr><th scope="col">release</th><th scope="col">published</th><th scope="col">due</th><th scope="col">patched ECUs</th><th scope="col">ECUs</th><th scope="col">status</th></tr></thead>
        <tbody>${patch.releases.map((r) => html`<tr data-release=${r.target}><td>${r.target}</td><td>${fmtTime(r.published)}</td><td>${fmtTime(r.due)}</td><td data-patched>${r.patched}</td><td data-ecus>${r.ecus}</td><td>${r.overdue ? html`<${Badge} kind="bad">overdue</${Badge}>` : html`<${Badge} kind="ok">within ${patch.days} days</${Badge}>`}</td></tr>`)}</tbody>
      </table>
      ${adoption.releases.map((r) => {
        const s = adoptionSeries(r, adoption.at);
        return html`<${Chart} id=${"adoption-" + r.target} title=${"Adoption of " + r.target + " (" + r.ecus + " ECUs)"} series=${["ECUs patched"]} xs=${s.xs} ys=${s.ys} ylabel="ECUs" stepped=${true} />`;
      })}
    </section>
    <section aria-labelledby="vuln-h">
      <h2 id="vuln-h">Vulnerabilities</h2>
      <table id="vuln-table">
        <thead><tr><th scope="col">id</th><th scope="col">severity</th><th scope="col">summary</th><th scope="col">devices</th><th scope="col">affected devices</th><th scope="col">fixed in</th></tr></thead>
        <tbody>${vulns.vulnerabilities.map((v) => html`<tr data-vuln=${v.id}><td>${v.id}${v.exploited_at ? html` <${Badge} kind="bad">exploited</${Badge}>` : ""}</td><td class="msg">${v.severity}</td><td class="msg">${v.summary}</td><td data-devices>${v.devices}</td><td>${(affected[v.id] || []).map((d, i) => html`${i ? ", " : ""}<a href=${"#/device/" + encodeURIComponent(d)}>${d}</a>`)}</td><td>${v.fixed_in?.target || "-"}</td></tr>`)}</tbody>
      </table>
    </section>
    <section aria-labelledby="art14-h">
      <h2 id="art14-h">Article 14 clocks</h2>
      ${art14.vulnerabilities.length === 0 && html`<p class="muted">No vulnerability is marked actively exploited.</p>`}
      ${art14.vulnerabilities.map((v) => html`<div class="card" data-art14=${v.id}>
        <h3>${v.id}</h3>
        <p class="muted">aware since ${fmtTime(v.aware_at)}; fixed in ${v.fixed_in || "-"}; devices affected: ${v.devices_affected.join(", ") || "none"}</p>
        <table>
          <thead><tr><th scope="col">report</th><th scope="col">due</th><th scope="col">status</th><th scope="col">what it must contain</th></tr></thead>
          <tbody>${v.clocks.map((c) => html`<tr><td>${c.stage}</td><td data-due>${c.due ? fmtTime(c.due) : "-"}</td><td><${Badge} kind=${c.status === "overdue" || c.status === "done-late" ? "bad" : c.status === "done" ? "ok" : "warn"}>${c.status}</${Badge}></td><td class="msg">${c.content}</td></tr>`)}</tbody>
        </table>
      </div>`)}
    </section>
  </main>`;
}

// ---- audit --------------------------------------------------------------
function Audit() {
  const [data, error] = useApi(["audit?limit=500"]);
  return html`<main id="main" tabindex="-1">
    <h1>Audit log</h1>
    <p><a class="export" href="/api/v1/audit?format=jsonl" download="audit.jsonl">Export (JSON lines)</a></p>
    <${Status} error=${error} data=${data} />
    ${data && html`<table id="audit-table">
      <thead><tr><th scope="col">id</th><th scope="col">when</th><th scope="col">who</th><th scope="col">role</th><th scope="col">from</th><th scope="col">request</th><th scope="col">status</th><th scope="col">detail</th></tr></thead>
      <tbody>${[...data[0].entries].reverse().map((a) => html`<tr data-audit=${a.id}><td>${a.id}</td><td>${fmtTime(a.at)}</td><td>${a.actor}</td><td>${a.role}</td><td>${a.remote}</td><td><code>${a.method} ${a.path}</code></td><td>${a.status}</td><td class="msg">${a.detail}</td></tr>`)}</tbody>
    </table>`}
  </main>`;
}

// ---- users --------------------------------------------------------------
const ROLES = ["viewer", "operator", "release-manager", "admin"];

function Users({ session }) {
  const [data, error, reload] = useApi(["users"]);
  const [msg, setMsg] = useState(null);
  const [name, setName] = useState("");
  const [role, setRole] = useState("viewer");
  const [password, setPassword] = useState("");
  const run = async (what, f) => {
    try {
      await f();
      setMsg({ ok: true, text: what + ": done." });
    } catch (e) {
      setMsg({ ok: false, text: what + ": " + e.status + " " + e.message });
    }
    reload();
  };
  const add = (ev) => {
    ev.preventDefault();
    run("Add " + name, () => api("POST", "users", { name, role, password })).then(() => {
      setName("");
      setPassword("");
    });
  };
  return html`<main id="main" tabindex="-1">
    <h1>Users</h1>
    <p class=${msg?.ok ? "ok" : "error"} role="status">${msg?.text || ""}</p>
    <${Status} error=${error} data=${data} />
    ${data && html`<table id="user-table">
      <thead><tr><th scope="col">name</th><th scope="col">role</th><th scope="col">password set</th><th scope="col">created</th><th scope="col"><span class="sr-only">actions</span></th></tr></thead>
      <tbody>${data[0].users.map((u) => html`<tr data-user=${u.name}><td>${u.name}</td>
        <td><label class="sr-only" for=${"role-" + u.name}>role of ${u.name}</label>
          <select id=${"role-" + u.name} value=${u.role} onChange=${(e) => run("Role of " + u.name, () => api("PATCH", "users/" + encodeURIComponent(u.name), { role: e.target.value }))}>
            ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
          </select></td>
        <td>${u.password ? "yes" : "no"}</td><td>${fmtTime(u.created)}</td>
        <td>${u.name !== session.user && html`<button type="button" class="danger" onClick=${() => confirm("Remove " + u.name + "?") && run("Remove " + u.name, () => api("DELETE", "users/" + encodeURIComponent(u.name)))}>Remove</button>`}</td></tr>`)}</tbody>
    </table>`}
    <h2>Add a user</h2>
    <form class="inline" onSubmit=${add} id="add-user">
      <label for="new-name">Name</label><input id="new-name" required pattern="[a-z0-9._\\-]{1,63}" value=${name} onInput=${(e) => setName(e.target.value)} />
      <label for="new-role">Role</label><select id="new-role" value=${role} onChange=${(e) => setRole(e.target.value)}>${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select>
      <label for="new-password">Password</label><input id="new-password" type="password" autocomplete="new-password" minlength="12" required value=${password} onInput=${(e) => setPassword(e.target.value)} />
      <button type="submit">Add</button>
    </form>
  </main>`;
}

// ---- the frame ----------------------------------------------------------
const PAGES = [
  ["fleet", "Fleet"],
  ["campaigns", "Campaigns"],
  ["cra", "CRA"],
  ["alerts", "Alerts"],
  ["audit", "Audit log"],
  ["users", "Users", "admin"],
];

function useRoute() {
  const get = () => (location.hash.replace(/^#\/?/, "") || "fleet").split("/").map(decodeURIComponent);
  const [route, setRoute] = useState(get());
  useEffect(() => {
    const f = () => setRoute(get());
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return route;
}

function App() {
  const [session, setSession] = useState(undefined);
  const route = useRoute();
  useEffect(() => {
    api("GET", "session")
      .then((s) => {
        csrf = s.csrf;
        setSession(s);
      })
      .catch(() => setSession(null));
  }, []);
  useEffect(() => {
    const main = document.getElementById("main");
    const h1 = main && main.querySelector("h1");
    document.title = (h1 ? h1.textContent + " — " : "") + "uptake";
  });
  if (session === undefined) return html`<main id="main" tabindex="-1"><p>Loading…</p></main>`;
  if (!session) return html`<${Login} onLogin=${setSession} />`;
  const logout = async () => {
    try {
      await api("DELETE", "session");
    } catch (e) {
      /* the session is gone either way */
    }
    csrf = null;
    setSession(null);
    location.hash = "";
  };
  const [page, arg] = route;
  let body;
  if (page === "device" && arg) body = html`<${Device} id=${arg} />`;
  else if (page === "campaigns") body = html`<${Campaigns} session=${session} />`;
  else if (page === "cra") body = html`<${Cra} />`;
  else if (page === "alerts") body = html`<${Alerts} session=${session} />`;
  else if (page === "audit") body = html`<${Audit} />`;
  else if (page === "users" && may(session.role, "admin")) body = html`<${Users} session=${session} />`;
  else body = html`<${Fleet} />`;
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>Skip to content</a>
    <header>
      <span class="brand">uptake</span>
      <nav aria-label="pages"><ul>${PAGES.filter((p) => !p[2] || may(session.role, p[2])).map(([k, label]) => html`<li><a href=${"#/" + k} aria-current=${page === k || (k === "fleet" && page === "device") ? "page" : undefined}>${label}</a></li>`)}</ul></nav>
      <span class="who"><span id="who">${session.user}</span> (<span id="role">${session.role}</span>) <button type="button" onClick=${logout}>Log out</button></span>
    </header>
    ${body}`;
}

render(html`<${App} />`, document.getElementById("app"));
