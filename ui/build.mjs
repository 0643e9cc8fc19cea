// Builds the dashboard: ui/src bundled by esbuild (preact, htm, uPlot from
// the pinned node_modules) into OUT/assets/app.js and app.css, with
// OUT/index.html. Nothing is loaded from elsewhere at run time.
//   node build.mjs SRC_DIR NODE_MODULES OUT_DIR
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const [src, modules, out] = process.argv.slice(2);
if (!src || !modules || !out) {
  console.error("usage: node build.mjs SRC_DIR NODE_MODULES OUT_DIR");
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
await build({
  entryPoints: { app: join(src, "src", "main.js") },
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2020"],
  outdir: join(out, "assets"),
  nodePaths: [modules],
  legalComments: "eof",
  logLevel: "warning",
});
copyFileSync(join(src, "index.html"), join(out, "index.html"));
copyFileSync(join(src, "icon.svg"), join(out, "assets", "icon.svg"));
