// Validates CSAF 2.0 documents with BSI's validator (@secvisogram/
// csaf-validator-lib): the strict CSAF 2.0 schema and every mandatory
// test (6.1.x), which include the profile tests of security advisories
// and VEX documents.
//   node check.mjs FILE...
import { readFileSync } from "node:fs";
import validateStrict from "@secvisogram/csaf-validator-lib/validateStrict.js";
import * as mandatory from "@secvisogram/csaf-validator-lib/mandatoryTests.js";
import { csaf_2_0_strict } from "@secvisogram/csaf-validator-lib/schemaTests.js";

let failures = 0;
for (const f of process.argv.slice(2)) {
  const doc = JSON.parse(readFileSync(f, "utf8"));
  const result = await validateStrict([csaf_2_0_strict, ...Object.values(mandatory)], doc);
  if (!result.isValid) {
    failures++;
    const bad = result.tests.filter((t) => !t.isValid).map((t) => t.name + ": " + JSON.stringify(t.errors).slice(0, 600));
    console.log(`FAIL: ${f}: ${bad.join("; ")}`);
  } else {
    console.log(`ok   ${f}: valid CSAF 2.0 (${doc.document.category})`);
  }
}
process.exit(failures ? 1 : 0);
