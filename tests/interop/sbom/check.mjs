// Judges CycloneDX documents with the CycloneDX project's own validator
// (@cyclonedx/cyclonedx-library: the official JSON schemas, strict).
//   node check.mjs valid|invalid FILE...
// valid: every FILE must pass; invalid: every FILE must fail.
import { readFileSync } from "node:fs";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";

const [want, ...files] = process.argv.slice(2);
let failures = 0;
for (const f of files) {
  const text = readFileSync(f, "utf8");
  const version = JSON.parse(text).specVersion;
  const v = { "1.4": Spec.Version.v1dot4, "1.5": Spec.Version.v1dot5, "1.6": Spec.Version.v1dot6 }[version];
  if (!v) {
    console.log(`FAIL: ${f}: specVersion ${version}`);
    failures++;
    continue;
  }
  const errors = await new Validation.JsonStrictValidator(v).validate(text);
  const valid = errors === null;
  if (valid !== (want === "valid")) {
    failures++;
    console.log(`FAIL: ${f}: the CycloneDX validator says ${valid ? "valid" : "invalid: " + JSON.stringify(errors).slice(0, 400)}`);
  } else {
    console.log(`ok   ${f}: ${valid ? "valid" : "invalid"} CycloneDX ${version}`);
  }
}
process.exit(failures ? 1 : 0);
