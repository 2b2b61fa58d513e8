#!/usr/bin/env node
// Builds the static files of web/assets/ from ui/ (run by `make build`): the staff
// app (Preact + htm from npm, bundled and minified by esbuild into one ES module and
// one stylesheet), the support page's and the status page's scripts, and the public pages' stylesheet.
// Nothing is fetched at run time from another origin. Prints each file's size and
// the gzip total of the staff app's first load (its budget: 60 KB).
import { build } from "esbuild";
import { readFileSync, mkdirSync, copyFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "web/assets");
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  legalComments: "none",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  logLevel: "warning",
  absWorkingDir: root,
};

await Promise.all([
  build({ ...common, entryPoints: { admin: "ui/admin/main.js" }, outdir: out, format: "esm" }),
  build({ ...common, entryPoints: { admin: "ui/admin/app.css" }, outdir: out }),
  build({ ...common, entryPoints: { support: "ui/support.js" }, outdir: out, format: "esm" }),
  build({ ...common, entryPoints: { status: "ui/status.js" }, outdir: out }),
  build({ ...common, entryPoints: { site: "ui/site.css" }, outdir: out }),
]);

// The OpenAPI document is served as a static file (wrangler.toml's run_worker_first
// leaves /api/openapi.json to the assets): no worker invocation, no wasm bytes.
mkdirSync(path.join(root, "web/api"), { recursive: true });
copyFileSync(path.join(root, "openapi/openapi.json"), path.join(root, "web/api/openapi.json"));

const gzipped = (file) => gzipSync(readFileSync(path.join(out, file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
for (const file of ["admin.js", "admin.css", "support.js", "status.js", "site.css"]) {
  const raw = readFileSync(path.join(out, file)).length;
  console.log(`web/assets/${file.padEnd(16)} ${kb(raw).padStart(8)} raw ${kb(gzipped(file)).padStart(8)} gzip`);
}
console.log(`staff app first load (JS + CSS): ${kb(gzipped("admin.js") + gzipped("admin.css"))} gzip (budget 60 KB)`);
