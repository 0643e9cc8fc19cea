// The dashboard in headless Chromium (playwright-core) against a real
// uptake-server with a simulated fleet (tests/ui/browser.sh sets it up):
// - /ui/ without a session shows the login page, with a strict CSP,
//   nosniff and no framing;
// - a wrong password and an unknown user get the same 401 and message;
// - a session cookie planted before login is not adopted, and is refused;
// - every page renders, and the numbers it shows equal the API's;
// - acknowledging an alert, pausing and resuming a campaign, adding a user
//   work from the page and land in the audit log under the user's name;
// - a viewer sees no operator button, and the server refuses (403) the
//   operator's request sent from the viewer's page; a missing or forged
//   CSRF token is refused (403);
// - axe-core finds no serious or critical violation on any page;
// - a screenshot of every page in UPTAKE_ARTIFACTS.
import { chromium } from "playwright-core";
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const env = (k) => {
  if (!process.env[k]) throw new Error(k + " is not set");
  return process.env[k];
};
const url = env("UPTAKE_URL");
const token = env("UPTAKE_TOKEN");
const out = env("UPTAKE_ARTIFACTS");
const campaign = env("UPTAKE_CAMPAIGN");
const campaign2 = env("UPTAKE_CAMPAIGN2"); // waits for approval
const profile = env("UPTAKE_PROFILE");
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

let failures = 0;
let passes = 0;
const ok = (cond, what, detail) => {
  if (cond) passes++;
  else {
    failures++;
    console.log("FAIL: " + what + (detail !== undefined ? ": " + JSON.stringify(detail).slice(0, 600) : ""));
  }
};
const eq = (got, want, what) => ok(JSON.stringify(got) === JSON.stringify(want), what, { got, want });

// the API with the admin token, from the test (not the page)
async function admin(path) {
  const r = await fetch(url + "/api/v1/" + path, { headers: { Authorization: "Bearer " + token } });
  if (!r.ok) throw new Error("GET " + path + ": " + r.status);
  return r.json();
}
const fmtTime = (t) => (t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z" : "never");
const waitFor = async (what, f, ms = 60000) => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
};
const auditHas = (pred) => waitFor("audit", async () => (await admin("audit?limit=1000")).entries.some(pred), 20000);

mkdirSync(out, { recursive: true });
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.UPTAKE_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // the server's certificate is from its own CA; the origin stays https
  ignoreHTTPSErrors: true,
  viewport: { width: 1280, height: 900 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
browser.setDefaultTimeout(60000);
const cspViolations = [];
const consoleErrors = [];
const watch = (page) => {
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 40[13]/.test(m.text())) consoleErrors.push(m.text());
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  return page;
};

async function axe(page, name) {
  await page.evaluate(axeSource); // through the DevTools protocol: the page's CSP stays as it is
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  ok(bad.length === 0, name + ": axe-core serious/critical violations", bad.map((v) => [v.id, v.impact, v.nodes.map((n) => n.target).slice(0, 3)]));
}
// the whole page, but at most 1800 pixels high (the audit log grows)
async function shot(page, name) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.screenshot({ path: join(out, name + ".png"), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.min(height, 1800) } });
}
const cells = (page, sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent.trim()));

async function login(page, user, password) {
  await page.goto(url + "/ui/");
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/v1/session") && r.request().method() === "POST"),
    page.click("button[type=submit]"),
  ]);
  // read now: the next navigation drops the response's body
  return { status: resp.status(), json: await resp.json(), headers: await resp.headersArray() };
}
async function show(page, hash, ready) {
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForSelector(ready);
  await page.waitForFunction(() => !document.body.textContent.includes("Loading…"));
}

try {
  // ---- the login page, its headers --------------------------------------
  let page = watch(await browser.newPage());
  const first = await page.goto(url + "/ui/");
  const hd = first.headers();
  ok(first.status() === 200, "GET /ui/ answers 200", first.status());
  ok(/default-src 'self'/.test(hd["content-security-policy"] || "") && /frame-ancestors 'none'/.test(hd["content-security-policy"] || "") &&
    !/unsafe-inline|unsafe-eval/.test(hd["content-security-policy"]), "strict Content-Security-Policy", hd["content-security-policy"]);
  eq(hd["x-content-type-options"], "nosniff", "X-Content-Type-Options");
  ok((hd["content-type"] || "").startsWith("text/html"), "index.html is text/html", hd["content-type"]);
  await page.waitForSelector("#login-user");
  ok(await page.isVisible("#login-password"), "without a session /ui/ shows the login page");
  await axe(page, "login");
  await shot(page, "login");
  // the page's own script is all that runs: no inline script, nothing from elsewhere
  const scripts = await page.$$eval("script", (s) => s.map((x) => [x.src, x.textContent.length]));
  ok(scripts.every(([src, n]) => src.startsWith(url + "/ui/") && n === 0), "only the server's own script, none inline", scripts);
  const js = await page.request.get(url + "/ui/assets/app.js");
  ok((js.headers()["content-type"] || "").startsWith("text/javascript"), "app.js is text/javascript", js.headers()["content-type"]);
  const etag = js.headers()["etag"];
  const again = await page.request.get(url + "/ui/assets/app.js", { headers: { "If-None-Match": etag } });
  eq(again.status(), 304, "If-None-Match with the ETag: 304");
  for (const bad of ["/ui/assets/..%2f..%2fserver.conf", "/ui/.hidden.js", "/ui/assets/nothing.js", "/ui/index.html%00.js", "/ui/%2e%2e/server.conf"]) {
    const r = await page.request.get(url + bad);
    ok(r.status() === 404 || r.status() === 400, "GET " + bad + " refused", r.status());
  }
  const post = await page.request.post(url + "/ui/index.html", { data: "x" });
  eq(post.status(), 405, "POST to a page: 405");

  // ---- wrong passwords: one 401, no user enumeration ---------------------
  const wrong = await login(page, "alice", "not the password at all");
  const unknown = await login(page, "nobody-at-all", "not the password at all");
  eq([wrong.status, unknown.status], [401, 401], "wrong password and unknown user: 401");
  eq(wrong.json.error.message, unknown.json.error.message, "the same message for a wrong password and an unknown user");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.length > 0);
  ok(await page.isVisible("#login-user"), "a failed login stays on the login page");
  ok(await auditHas((a) => a.actor === "nobody-at-all" && a.status === 401), "a failed login lands in the audit log");

  // ---- session fixation: a cookie planted before login is not adopted ----
  const planted = "ab".repeat(32);
  await browser.addCookies([{ name: "uptake_session", value: planted, url: url + "/", secure: true, httpOnly: true, sameSite: "Strict" }]);
  const good = await login(page, "alice", "alice admin password");
  eq(good.status, 200, "alice logs in");
  const setCookie = good.headers.filter((x) => x.name.toLowerCase() === "set-cookie").map((x) => x.value).join("\n");
  ok(/uptake_session=/.test(setCookie) && /HttpOnly/i.test(setCookie) && /Secure/i.test(setCookie) && /SameSite=Strict/i.test(setCookie),
    "the session cookie is HttpOnly, Secure, SameSite=Strict", setCookie);
  const jar = (await browser.cookies(url)).filter((c) => c.name === "uptake_session");
  ok(jar.length === 1 && jar[0].value !== planted && /^[0-9a-f]{64}$/.test(jar[0].value), "the planted session is not the one issued", jar.map((c) => c.value));
  const fixed = await fetch(url + "/api/v1/session", { headers: { Cookie: "uptake_session=" + planted } });
  eq(fixed.status, 401, "the planted session is refused");
  ok(await page.evaluate(() => document.cookie.includes("uptake_session")) === false, "the page's script cannot read the session cookie");

  // ---- every page, its numbers equal the API's ---------------------------
  await page.waitForSelector("#who");
  eq(await page.textContent("#role"), "admin", "alice's role shown");

  // fleet
  await show(page, "#/fleet", "#device-table");
  const [devices, support, inventory, openAlerts] = await Promise.all([admin("devices"), admin("reports/support"), admin("reports/inventory"), admin("alerts?open=1")]);
  eq(await page.textContent('[data-stat="devices"]'), String(devices.devices.length), "fleet: devices");
  eq(await page.textContent('[data-stat="ecus"]'), String(inventory.ecus), "fleet: ECUs");
  eq(await page.textContent('[data-stat="open-alerts"]'), String(openAlerts.alerts.length), "fleet: open alerts");
  eq(await page.textContent('[data-stat="ended"]'), String(support.devices.filter((d) => d.status === "ended").length), "fleet: out of support");
  const grid = {};
  for (const d of support.devices) grid[d.product + "/" + d.status] = (grid[d.product + "/" + d.status] || 0) + 1;
  for (const [k, n] of Object.entries(grid)) {
    const [p, s] = k.split("/");
    eq(await page.textContent(`td[data-product="${p}"][data-status="${s}"]`), String(n), "fleet: devices of " + p + " " + s);
  }
  for (const i of inventory.images) eq(await page.textContent(`td[data-release-ecus="${i.target}"]`), String(i.ecus), "fleet: ECUs running " + i.target);
  eq((await cells(page, "#device-table tbody tr td:first-child")).sort(), devices.devices.map((d) => d.id).sort(), "fleet: every device listed");
  await axe(page, "fleet");
  await shot(page, "fleet");
  await page.fill("#f-search", "old-");
  await page.waitForFunction(() => document.querySelectorAll("#device-table tbody tr").length === 2);
  eq(await cells(page, "#device-table tbody tr td:first-child"), ["old-1", "old-2"], "fleet: search");
  await page.fill("#f-search", "");
  await page.selectOption("#f-support", "ended");
  await page.waitForFunction(() => document.querySelectorAll("#device-table tbody tr").length === 2);
  eq(await cells(page, "#device-table tbody tr td:first-child"), ["old-1", "old-2"], "fleet: filter by support status");
  await page.selectOption("#f-support", "");

  // device detail, reached with the keyboard from the fleet list
  await page.focus('#device-table a[href="#/device/gw-4"]');
  await page.keyboard.press("Enter");
  await page.waitForSelector("#history-table");
  await page.waitForFunction(() => !document.body.textContent.includes("Loading…"));
  const [gw4, hist] = await Promise.all([admin("devices/gw-4"), admin("devices/gw-4/manifests")]);
  eq(await page.textContent("h1"), "Device gw-4", "device page by keyboard");
  eq(await page.$$eval("#ecu-table tbody tr", (r) => r.length), gw4.ecus.length, "device: ECUs");
  eq(await page.$$eval("#history-table tbody tr", (r) => r.length), hist.manifests.reduce((n, m) => n + m.reports.length, 0), "device: signed reports");
  eq(await page.$$eval("#history-table tbody tr td:nth-child(5) code", (c) => c.map((x) => x.title)),
    hist.manifests.flatMap((m) => m.reports.map((r) => r.sha256)), "device: the reports' verified hashes");
  eq(await page.$$eval("#install-table tbody tr", (r) => r.length), gw4.installation_reports.length, "device: installation reports");
  eq(await page.textContent("#support-end"), support.devices.find((d) => d.id === "gw-4").support_end, "device: support end");
  eq(await page.$$eval(".alert-table tbody tr", (r) => r.length), (await admin("alerts?device=gw-4")).alerts.length, "device: alerts");
  await axe(page, "device");
  await shot(page, "device");

  // campaigns
  await show(page, "#/campaigns", `[data-campaign="${campaign}"]`);
  const camp = await admin("campaigns/" + campaign);
  for (const [k, v] of Object.entries(camp.totals)) {
    const c = await page.$(`[data-campaign="${campaign}"] td[data-count="${k}"]`);
    ok(c && (await c.textContent()) === String(v), "campaign: count " + k, c && (await c.textContent()));
  }
  eq(await page.$$eval(`[data-campaign="${campaign}"] [role=progressbar]`, (b) => b.map((x) => [x.getAttribute("aria-valuenow"), x.getAttribute("aria-valuemax")])),
    camp.stages.map((s) => [String(s.succeeded), String(s.ecus)]), "campaign: progress bars");
  await axe(page, "campaigns");
  await shot(page, "campaigns");

  // CRA
  await show(page, "#/cra", "#patch-table");
  await page.waitForSelector("#support-chart canvas");
  const [patch, vulns, art14, adoption] = await Promise.all([admin("reports/patch-status"), admin("reports/vulns"), admin("reports/art14"), admin("reports/adoption")]);
  for (const r of patch.releases) {
    eq(await page.textContent(`tr[data-release="${r.target}"] td[data-patched]`), String(r.patched), "cra: " + r.target + " patched");
    eq(await page.textContent(`tr[data-release="${r.target}"] td[data-ecus]`), String(r.ecus), "cra: " + r.target + " ECUs");
  }
  eq(adoption.releases.map((r) => r.patched), patch.releases.map((r) => r.patched), "adoption's last point equals patch-status");
  for (const r of adoption.releases) ok(await page.$(`[id="adoption-${r.target}"] canvas`), "cra: adoption chart of " + r.target);
  for (const v of vulns.vulnerabilities) eq(await page.textContent(`tr[data-vuln="${v.id}"] td[data-devices]`), String(v.devices), "cra: devices with " + v.id);
  ok(art14.vulnerabilities.length > 0, "the fleet has an Article 14 clock");
  for (const v of art14.vulnerabilities)
    eq(await cells(page, `[data-art14="${v.id}"] td[data-due]`), v.clocks.map((c) => (c.due ? fmtTime(c.due) : "-")), "cra: Article 14 due times of " + v.id);
  await axe(page, "cra");
  await shot(page, "cra");

  // audit log
  await show(page, "#/audit", "#audit-table");
  const audit = await admin("audit?limit=500");
  eq(await page.$$eval("#audit-table tbody tr", (r) => r.length), audit.entries.length, "audit: entries");
  await axe(page, "audit");
  await shot(page, "audit");

  // users (admin): add one from the page
  await show(page, "#/users", "#user-table");
  eq((await cells(page, "#user-table tbody tr td:first-child")).sort(), (await admin("users")).users.map((u) => u.name).sort(), "users: listed");
  await axe(page, "users");
  await page.fill("#new-name", "rosa");
  await page.selectOption("#new-role", "release-manager");
  await page.fill("#new-password", "rosa release password");
  await page.click("#add-user button[type=submit]");
  await page.waitForSelector('tr[data-user="rosa"]');
  ok((await admin("users")).users.some((u) => u.name === "rosa" && u.role === "release-manager"), "users: added from the page");
  ok(await auditHas((a) => a.actor === "alice" && a.method === "POST" && a.path === "/api/v1/users" && a.status === 201), "adding a user lands in the audit log");
  // ...change her role, then remove her (the page asks first)
  await page.selectOption('[id="role-rosa"]', "operator");
  ok(await waitFor("role", async () => (await admin("users")).users.some((u) => u.name === "rosa" && u.role === "operator")), "users: role changed from the page");
  ok(await auditHas((a) => a.actor === "alice" && a.method === "PATCH" && a.path === "/api/v1/users/rosa" && a.status === 200), "a role change lands in the audit log");
  page.once("dialog", (d) => d.accept());
  await page.click('tr[data-user="rosa"] button:text-is("Remove")');
  await page.waitForSelector('tr[data-user="rosa"]', { state: "detached" });
  ok(!(await admin("users")).users.some((u) => u.name === "rosa"), "users: removed from the page");
  ok(await auditHas((a) => a.actor === "alice" && a.method === "DELETE" && a.path === "/api/v1/users/rosa" && a.status < 300), "removing a user lands in the audit log");
  await shot(page, "users");

  // alerts page (as admin, for its screenshot)
  await show(page, "#/alerts", ".alert-table");
  await axe(page, "alerts");
  await shot(page, "alerts");
  await page.click("text=Log out");
  await page.waitForSelector("#login-user");
  eq((await fetch(url + "/api/v1/session", { headers: { Cookie: "uptake_session=" + jar[0].value } })).status, 401, "logout ends the session");
  await page.close();

  // ---- the operator: CSRF, ack an alert, pause and resume ----------------
  await browser.clearCookies();
  page = watch(await browser.newPage());
  eq((await login(page, "otto", "otto operator password")).status, 200, "otto logs in");
  await page.waitForSelector("#who");
  const alertId = openAlerts.alerts[0].id;
  const forged = await page.evaluate(async (id) => {
    const send = (h) => fetch("/api/v1/alerts/" + id + "/ack", { method: "POST", headers: { "Content-Type": "application/json", ...h }, body: "{}" }).then((r) => r.status);
    return [await send({}), await send({ "X-CSRF-Token": "0".repeat(64) })];
  }, alertId);
  eq(forged, [403, 403], "ack without and with a forged CSRF token: 403");
  ok((await admin("alerts?open=1")).alerts.some((a) => a.id === alertId), "the refused ack changed nothing");
  ok(await auditHas((a) => a.actor === "otto" && a.status === 403 && /CSRF/.test(a.detail)), "the CSRF refusals land in the audit log");
  await show(page, "#/alerts", `[data-ack="${alertId}"]`);
  await page.focus(`[data-ack="${alertId}"]`);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`tr[data-alert="${alertId}"]`, { state: "detached" });
  ok(!(await admin("alerts?open=1")).alerts.some((a) => a.id === alertId), "ack from the page closes the alert");
  await page.uncheck("#only-open");
  await page.waitForSelector(`tr[data-alert="${alertId}"]`);
  eq(await page.textContent(`tr[data-alert="${alertId}"] td:last-child`), "acknowledged by otto", "the page shows who acknowledged it");
  ok(await auditHas((a) => a.actor === "otto" && a.path === `/api/v1/alerts/${alertId}/ack` && a.status === 200), "the ack lands in the audit log");
  await show(page, "#/campaigns", `[data-campaign="${campaign}"]`);
  await page.click(`[data-campaign="${campaign}"] button:text-is("Pause")`);
  ok(await waitFor("paused", async () => (await admin("campaigns/" + campaign)).status === "paused"), "pause from the page");
  await page.waitForSelector(`[data-campaign="${campaign}"] button:text-is("Resume")`);
  await shot(page, "campaigns-paused");
  await page.click(`[data-campaign="${campaign}"] button:text-is("Resume")`);
  ok(await waitFor("running", async () => (await admin("campaigns/" + campaign)).status === "running"), "resume from the page");
  for (const act of ["pause", "resume"])
    ok(await auditHas((a) => a.actor === "otto" && a.path === `/api/v1/campaigns/${campaign}/${act}` && a.status === 200), act + " lands in the audit log");
  // the second campaign waits for approval: approve its stage, then cancel it
  eq((await admin("campaigns/" + campaign2)).approved, 0, "the second campaign waits for approval");
  await page.waitForSelector(`[data-campaign="${campaign2}"] button:text-is("Approve stage 1")`);
  await page.click(`[data-campaign="${campaign2}"] button:text-is("Approve stage 1")`);
  ok(await waitFor("approved", async () => (await admin("campaigns/" + campaign2)).approved >= 1), "approve from the page");
  ok(await auditHas((a) => a.actor === "otto" && a.path === `/api/v1/campaigns/${campaign2}/approve` && a.status === 200), "approve lands in the audit log");
  page.once("dialog", (d) => d.accept());
  await page.click(`[data-campaign="${campaign2}"] button:text-is("Cancel")`);
  ok(await waitFor("cancelled", async () => (await admin("campaigns/" + campaign2)).status === "cancelled"), "cancel from the page");
  ok(await auditHas((a) => a.actor === "otto" && a.path === `/api/v1/campaigns/${campaign2}/cancel` && a.status === 200), "cancel lands in the audit log");
  await page.waitForSelector(`[data-campaign="${campaign2}"] button:text-is("Cancel")`, { state: "detached" });
  ok(!(await page.isVisible('a[href="#/users"]')), "an operator sees no users page");
  const usersAsOperator = await page.evaluate(() => fetch("/api/v1/users").then((r) => r.status));
  eq(usersAsOperator, 403, "the server refuses the users list to an operator");
  await page.close();

  // ---- the viewer: no buttons, and the server refuses -------------------
  await browser.clearCookies();
  page = watch(await browser.newPage());
  eq((await login(page, "vera", "vera viewer password")).status, 200, "vera logs in");
  await page.waitForSelector("#who");
  await show(page, "#/campaigns", `[data-campaign="${campaign}"]`);
  eq(await page.$$eval(`[data-campaign="${campaign}"] .actions button`, (b) => b.length), 0, "a viewer sees no campaign button");
  await show(page, "#/alerts", "#only-open");
  eq(await page.$$eval("[data-ack]", (b) => b.length), 0, "a viewer sees no acknowledge button");
  const asViewer = await page.evaluate(async (id) => {
    const s = await (await fetch("/api/v1/session")).json();
    const r = await fetch("/api/v1/campaigns/" + id + "/pause", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf }, body: "{}" });
    return [r.status, (await r.json()).error.message];
  }, campaign);
  eq(asViewer[0], 403, "the server refuses a viewer's pause sent from the page, with the right CSRF token");
  ok(/role viewer may not/.test(asViewer[1]), "the refusal names the role", asViewer[1]);
  eq((await admin("campaigns/" + campaign)).status, "running", "the viewer's pause changed nothing");
  ok(await auditHas((a) => a.actor === "vera" && a.path === `/api/v1/campaigns/${campaign}/pause` && a.status === 403), "the viewer's refusal lands in the audit log");
  await shot(page, "viewer-campaigns");
  await page.close();

  eq(cspViolations, [], "no Content-Security-Policy violation on any page");
  eq(consoleErrors, [], "no script error on any page");
} catch (e) {
  failures++;
  console.log("FAIL: " + (e.stack || e));
} finally {
  await browser.close();
}
console.log(`ui_browser: ${passes} checks passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
