// Checks docs/openapi.yaml with independent validators from the npm
// registry: the document against the OpenAPI 3.1 schema
// (@seriousme/openapi-schema-validator), the route table of
// `uptake-server --routes` against the document's operations, and real
// answers of a running server against the document's schemas (ajv, JSON
// Schema 2020-12, the dialect of OpenAPI 3.1).
//
//   node check.mjs OPENAPI.yaml ROUTES.txt ANSWERS.jsonl
//
// ANSWERS.jsonl: one {"method","template","status","type","body"} a line,
// where template is the route's path pattern and body a file name.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import YAML from "yaml";

const [docFile, routesFile, answersFile] = process.argv.slice(2);
const doc = YAML.parse(readFileSync(docFile, "utf8"));
let failures = 0;
let checks = 0;
const fail = (msg) => {
  failures++;
  console.log("FAIL: " + msg);
};
const ok = () => checks++;

// 1. the document is valid OpenAPI 3.1
const v = new Validator();
const res = await v.validate(doc);
if (!res.valid) fail("docs/openapi.yaml is not valid OpenAPI: " + JSON.stringify(res.errors).slice(0, 2000));
else ok();
if (doc.openapi !== "3.1.0") fail("not OpenAPI 3.1.0");

// 2. the route table and the document list the same endpoints, with the same callers
const callerOf = (op) => {
  const sec = op.security ?? doc.security ?? [];
  if (sec.length === 0) return op["x-uptake-tls-only"] ? "login" : "public";
  const names = sec.flatMap((s) => Object.keys(s));
  if (names.length !== 1) return "several:" + names.join(",");
  return { deviceCertificate: "device", fleetCredential: "fleet", adminToken: "admin" }[names[0]] ?? names[0];
};
const inDoc = new Map();
for (const [path, item] of Object.entries(doc.paths)) {
  for (const m of ["get", "put", "post", "delete", "patch", "head", "options"]) {
    if (item[m]) inDoc.set(m.toUpperCase() + " " + path, callerOf(item[m]));
  }
}
const inTable = new Map();
for (const line of readFileSync(routesFile, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const [method, pattern, caller] = line.split(" ");
  inTable.set(method + " " + pattern.replace(/\{([a-z_]+)\+\}/g, "{$1}"), caller);
}
for (const [k, caller] of inTable) {
  if (!inDoc.has(k)) fail("route " + k + " is not in docs/openapi.yaml");
  else if (inDoc.get(k) !== caller) fail(k + ": the table says " + caller + ", the document " + inDoc.get(k));
  else ok();
}
for (const k of inDoc.keys()) if (!inTable.has(k)) fail("docs/openapi.yaml lists " + k + ", the server has no such route");

// 3. real answers validate against the document's schemas
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(doc, "openapi.json");
const ptr = (parts) => "openapi.json#/" + parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
const deref = (obj, parts) => {
  // follow a Reference Object to its target and where it lives
  while (obj && obj.$ref) {
    parts = obj.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    obj = parts.reduce((o, p) => o?.[p], doc);
  }
  return [obj, parts];
};
const compiled = new Map();
const answers = readFileSync(answersFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
for (const a of answers) {
  const path = a.template.replace(/\{([a-z_]+)\+\}/g, "{$1}");
  const op = doc.paths[path]?.[a.method.toLowerCase()];
  const what = `${a.method} ${a.template} -> ${a.status}`;
  if (!op) {
    fail(what + ": no such operation in the document");
    continue;
  }
  const [resp, rparts] = deref(op.responses?.[String(a.status)], ["paths", path, a.method.toLowerCase(), "responses", String(a.status)]);
  if (!resp) {
    fail(what + ": status not documented");
    continue;
  }
  const type = (a.type || "").split(";")[0].trim();
  if (!resp.content) {
    if (a.size > 0 && a.status !== 304 && a.status !== 416) fail(what + ": a body where the document has none");
    else ok();
    continue;
  }
  const media = resp.content[type];
  if (!media) {
    fail(what + ": content type " + type + " not documented (" + Object.keys(resp.content).join(", ") + ")");
    continue;
  }
  if (type !== "application/json") {
    ok();
    continue;
  }
  const ref = ptr([...rparts, "content", type, "schema"]);
  if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: ref }));
  const validate = compiled.get(ref);
  let body;
  try {
    body = JSON.parse(readFileSync(a.body, "utf8"));
  } catch (e) {
    fail(what + ": body is not JSON: " + e.message);
    continue;
  }
  if (!validate(body)) fail(what + ": " + ajv.errorsText(validate.errors) + " in " + JSON.stringify(body).slice(0, 300));
  else ok();
}
// every route was exercised
const seen = new Set(answers.map((a) => a.method + " " + a.template.replace(/\{([a-z_]+)\+\}/g, "{$1}")));
for (const k of inTable.keys()) if (!seen.has(k)) fail("no answer of " + k + " was checked");
console.log(`openapi: ${checks} checks passed, ${failures} failed (${answers.length} answers, ${inTable.size} routes)`);
process.exit(failures ? 1 : 0);
