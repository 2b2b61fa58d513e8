#!/usr/bin/env node
// Keeps the layers of src/ honest (run by `make lint`): reads every file's references
// to other modules (`use crate::…`, `use super::…`, child modules, and inline paths
// such as `store::health::ping` through an imported name), and fails on
//   - an arrow from a lower layer to a higher one (for example domain -> store), and
//   - any cycle between files,
// naming the files. It also checks that every `src/...` path the docs and the bench
// mention exists, so they cannot point at code that moved.
//
//   node scripts/check-layers.mjs            check src/ and print the layer graph
//   node scripts/check-layers.mjs --quiet    only the verdict
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Top to bottom: a file may import from its own layer (without cycles) or any below. */
export const LAYERS = [
  ["lib.rs"],
  ["routes"],
  ["app"],
  ["notify"],
  ["store"],
  ["platform"],
  ["http"],
  ["error.rs", "config.rs"],
  ["domain"],
];

function rankOf(relFile) {
  const top = relFile.split("/")[0];
  const i = LAYERS.findIndex((names) => names.includes(top));
  return i === -1 ? null : LAYERS.length - 1 - i;
}

function rustFiles(dir, base = dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return rustFiles(full, base);
    return name.endsWith(".rs") ? [path.relative(base, full).split(path.sep).join("/")] : [];
  });
}

/** `a/b.rs` and `a/b/mod.rs` are module `a::b`; `lib.rs` is the crate root. */
function moduleOf(relFile) {
  if (relFile === "lib.rs") return [];
  const parts = relFile.replace(/\.rs$/, "").split("/");
  if (parts.at(-1) === "mod") parts.pop();
  return parts;
}

/** Removes comments and string literals, so only code is read. */
function codeOnly(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/\/\/[^\n]*/g, " ")
    .replace(/r#*"[\s\S]*?"#*/g, '""')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/'(?:[^'\\]|\\.)'/g, "' '");
}

/** Drops `#[cfg(test)] mod … { … }` blocks: test code is not part of the layers, and
 * inside it `super` means the file's own module. */
function withoutTests(code) {
  let out = code;
  for (;;) {
    const m = /#\[cfg\(test\)\]\s*mod\s+\w+\s*\{/.exec(out);
    if (!m) return out;
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < out.length; end++) {
      if (out[end] === "{") depth++;
      else if (out[end] === "}" && --depth === 0) break;
    }
    out = out.slice(0, m.index) + out.slice(end + 1);
  }
}

/** Expands a `use` tree (`a::{b, c::{d, self}}`) into full paths. */
function expandUse(tree) {
  tree = tree.replace(/\s+/g, "");
  const open = tree.indexOf("{");
  if (open === -1) return [tree.replace(/::self$/, "")];
  const prefix = tree.slice(0, open);
  const inner = tree.slice(open + 1, tree.lastIndexOf("}"));
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= inner.length; i++) {
    const c = inner[i];
    if (c === "{") depth++;
    else if (c === "}") depth--;
    else if ((c === "," || c === undefined) && depth === 0) {
      const part = inner.slice(start, i);
      if (part) parts.push(part);
      start = i + 1;
    }
  }
  return parts.flatMap((part) => expandUse(part === "self" ? prefix.replace(/::$/, "") : prefix + part));
}

/**
 * The file graph of a source tree: { files, edges: Map(file -> Set(file)) }.
 * A reference resolves to the longest module prefix of its path that is a file.
 */
export function fileGraph(srcDir) {
  const files = rustFiles(srcDir);
  const byModule = new Map(files.map((f) => [moduleOf(f).join("::"), f]));
  const edges = new Map(files.map((f) => [f, new Set()]));
  for (const file of files) {
    const here = moduleOf(file);
    const code = withoutTests(codeOnly(readFileSync(path.join(srcDir, file), "utf8")));
    const isChild = (name) => byModule.has([...here, name].join("::"));
    // A path as written, made absolute (a list of segments), or null if external.
    const absolute = (segments, aliases) => {
      const [first, ...rest] = segments;
      if (first === "crate") return rest;
      if (first === "self") return [...here, ...rest];
      if (first === "super") {
        let base = here.slice(0, -1);
        while (rest[0] === "super") {
          rest.shift();
          base = base.slice(0, -1);
        }
        return [...base, ...rest];
      }
      if (aliases.has(first)) return [...aliases.get(first), ...rest];
      if (isChild(first)) return [...here, ...segments];
      return null;
    };
    const link = (segments) => {
      for (let n = segments.length; n >= 0; n--) {
        const target = byModule.get(segments.slice(0, n).join("::"));
        if (target !== undefined) {
          if (target !== file) edges.get(file).add(target);
          return;
        }
      }
    };
    const aliases = new Map();
    for (const m of code.matchAll(/\buse\s+([^;]+);/g)) {
      for (const p of expandUse(m[1])) {
        const [spec, alias] = p.split(/\s*as\s*/);
        const segments = spec.split("::").filter(Boolean);
        const abs = absolute(segments, new Map());
        if (!abs) continue;
        link(abs);
        const name = alias ?? segments.at(-1);
        if (name !== "*") aliases.set(name, abs);
      }
    }
    const body = code.replace(/\buse\s+[^;]+;/g, " ");
    for (const m of body.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const abs = absolute(m[1].split(/\s*::\s*/), aliases);
      if (abs) link(abs);
    }
  }
  return { files, edges };
}

/** Every problem: upward arrows and cycles, as sentences naming the files. */
export function check(srcDir) {
  const { files, edges } = fileGraph(srcDir);
  const problems = [];
  for (const file of files) {
    const rank = rankOf(file);
    if (rank === null) {
      problems.push(`src/${file} is in no layer (add its folder to LAYERS in scripts/check-layers.mjs)`);
      continue;
    }
    for (const target of edges.get(file)) {
      const targetRank = rankOf(target);
      if (targetRank !== null && targetRank > rank) {
        problems.push(`upward import: src/${file} (${layerName(file)}) imports src/${target} (${layerName(target)})`);
      }
    }
  }
  for (const cycle of cycles(files, edges)) {
    problems.push(`import cycle: ${[...cycle, cycle[0]].map((f) => `src/${f}`).join(" -> ")}`);
  }
  return { problems, files, edges };
}

function layerName(file) {
  return file.includes("/") ? file.split("/")[0] : file.replace(/\.rs$/, "");
}

/** One cycle per strongly connected component of more than one file (Tarjan). */
function cycles(files, edges) {
  let index = 0;
  const stack = [];
  const info = new Map();
  const found = [];
  const visit = (v) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of edges.get(v)) {
      if (!info.has(w)) {
        visit(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).onStack) {
        info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
      }
    }
    if (info.get(v).low === info.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(pathWithin(component, edges));
    }
  };
  for (const f of files) if (!info.has(f)) visit(f);
  return found;
}

/** A concrete cycle through a strongly connected component, from its first file. */
function pathWithin(component, edges) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const walk = (v, seen) => {
    for (const w of edges.get(v)) {
      if (w === start) return [v];
      if (members.has(w) && !seen.has(w)) {
        seen.add(w);
        const rest = walk(w, seen);
        if (rest) return [v, ...rest];
      }
    }
    return null;
  };
  return walk(start, new Set([start])) ?? component;
}

/** `src/...` paths that docs and the bench mention but that do not exist. */
export function missingPaths(root) {
  const docs = ["README.md", "bench/README.md"]
    .concat(existsSync(path.join(root, "docs")) ? readdirSync(path.join(root, "docs")).map((f) => `docs/${f}`) : [])
    .concat(readdirSync(path.join(root, "bench"), { recursive: true })
      .filter((f) => String(f).endsWith(".mjs"))
      .map((f) => `bench/${f}`));
  const missing = [];
  for (const doc of docs) {
    const text = readFileSync(path.join(root, doc), "utf8");
    for (const m of text.matchAll(/\bsrc\/[A-Za-z0-9_./]*[A-Za-z0-9_]/g)) {
      if (!existsSync(path.join(root, m[0]))) missing.push(`${doc} mentions ${m[0]}, which does not exist`);
    }
  }
  return [...new Set(missing)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const { problems, files, edges } = check(path.join(root, "src"));
  problems.push(...missingPaths(root));
  if (!process.argv.includes("--quiet")) {
    console.log("layer graph (file -> the files it imports):");
    for (const f of files.sort()) {
      const targets = [...edges.get(f)].sort();
      if (targets.length) console.log(`  src/${f} -> ${targets.map((t) => t.replace(/\.rs$/, "")).join(", ")}`);
    }
  }
  if (problems.length) {
    for (const p of problems) console.error(`check-layers: ${p}`);
    process.exit(1);
  }
  console.log(`check-layers: ${files.length} files, no cycle, no upward import, every src/ path in the docs exists`);
}
