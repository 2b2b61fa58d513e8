// The layer check must be able to fail: plant an upward import and a cycle in a
// small tree shaped like src/, and see each named. Run by `make lint`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { check } from "./check-layers.mjs";

function tree(files) {
  const dir = mkdtempSync(path.join(tmpdir(), "layers-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const clean = {
  "lib.rs": "mod domain;\nmod store;\nmod routes;\nuse crate::routes::handle;\n",
  "domain/mod.rs": "pub mod ticket;\n",
  "domain/ticket.rs": "pub struct Ticket;\n",
  "store/mod.rs": "pub mod tickets;\n",
  "store/tickets.rs": "use crate::domain::ticket::Ticket;\npub fn read() -> Ticket { Ticket }\n",
  "routes/mod.rs": "use crate::store::{self};\npub fn handle() { store::tickets::read(); }\n",
};

test("a layered tree passes", () => {
  const dir = tree(clean);
  try {
    assert.deepEqual(check(dir).problems, []);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("an upward import is named with both files", () => {
  const dir = tree({
    ...clean,
    "domain/ticket.rs": "pub struct Ticket;\npub fn oops() { crate::store::tickets::read(); }\n",
  });
  try {
    const { problems } = check(dir);
    assert.ok(
      problems.some((p) => p.includes("upward import: src/domain/ticket.rs (domain) imports src/store/tickets.rs (store)")),
      problems.join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("a cycle between two files of one layer is named", () => {
  const dir = tree({
    ...clean,
    "store/mod.rs": "pub mod tickets;\npub mod messages;\n",
    "store/tickets.rs": "use crate::domain::ticket::Ticket;\nuse super::messages::count;\npub fn read() -> Ticket { Ticket }\n",
    "store/messages.rs": "pub fn count() { super::tickets::read(); }\n",
  });
  try {
    const { problems } = check(dir);
    assert.ok(
      problems.some((p) => p.startsWith("import cycle:") && p.includes("src/store/messages.rs") && p.includes("src/store/tickets.rs")),
      problems.join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("imports in test modules and comments do not count", () => {
  const dir = tree({
    ...clean,
    "domain/ticket.rs":
      "// crate::store::tickets is mentioned here only\npub struct Ticket;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::store::tickets;\n}\n",
  });
  try {
    assert.deepEqual(check(dir).problems, []);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("the real src/ is layered", () => {
  const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src");
  assert.deepEqual(check(src).problems, []);
});
