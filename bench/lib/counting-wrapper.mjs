// The benchmark's instrumented entry module. Miniflare loads it as the worker's main
// module, beside the worker under test, which it imports as "./index.js" (the product's
// build/index.js with its index_bg.wasm, or the bundled reference). Every D1 and KV
// binding in env is replaced by a counting proxy before the worker sees it, so the
// harness counts round trips instead of estimating them:
//   D1: first/run/all/raw on a statement, batch (one round trip whatever its size),
//       exec, dump; prepare/bind are local and only tallied.
//   KV: get/getWithMetadata/put/delete/list.
//   R2: put/get/head/delete/list.
// GET /__bench/counters answers the totals since the worker started (and how many
// requests, and ctx.waitUntil tasks, are still running); the harness waits for both to
// reach 0 after each load run, reads the totals before and after it and divides the
// delta by the requests. Deferred (waitUntil) round trips count for the request that
// deferred them.
//
// Edge mode (`make bench EDGE=1`): every D1 call that reaches the database is delayed by
// EDGE.d1Ms and every KV read by EDGE.kvMs, half before the call and half after it (the
// request travels to the database, the answer travels back), for every worker alike.
// On loopback both are 0 and nothing is delayed.
import Entry from "./index.js";
import EDGE from "./__bench_edge.mjs";

const zero = () => ({
  requests: 0,
  inFlight: 0,
  // ctx.waitUntil work (e.g. delivering notifications after the response) still running.
  deferred: 0,
  waitUntil: 0,
  d1: { roundTrips: 0, first: 0, run: 0, all: 0, raw: 0, batch: 0, batchStatements: 0, exec: 0, dump: 0, prepare: 0, bind: 0 },
  kv: { roundTrips: 0, get: 0, getWithMetadata: 0, put: 0, delete: 0, list: 0 },
  r2: { roundTrips: 0, put: 0, get: 0, head: 0, delete: 0, list: 0 },
});
let counters = zero();

const D1_STATEMENT_CALLS = new Set(["first", "run", "all", "raw"]);
const KV_CALLS = new Set(["get", "getWithMetadata", "put", "delete", "list"]);
const KV_READS = new Set(["get", "getWithMetadata", "list"]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** `call()` as a round trip of `ms`: half on the way there, half on the way back (whole
 * milliseconds: workerd's timers have no finer grain, 3 ms is 1 + 2). */
async function away(ms, call) {
  const there = Math.floor(ms / 2);
  await sleep(there);
  try {
    return await call();
  } finally {
    await sleep(ms - there);
  }
}
/** A call delayed by `ms` when the mode asks for it, else the call itself. */
const delayed = (ms, call) => (ms > 0 ? away(ms, call) : call());
const R2_CALLS = new Set(["put", "get", "head", "delete", "list"]);
const unwrap = new WeakMap(); // counting proxy -> the real object

function roundTrip(area, name, extra = 0) {
  counters[area][name] += 1;
  counters[area].roundTrips += 1;
  if (extra) counters.d1.batchStatements += extra;
}

// A proxy that forwards everything to `target` (calling methods on the real object, so
// native bindings do not see a foreign `this`) except the methods `hook` returns for.
// `constructor` is passed through untouched: workers-rs checks the binding's
// constructor name ("D1Database", "KvNamespace") before using it.
function forward(target, hook) {
  const proxy = new Proxy(target, {
    get(t, key) {
      const value = Reflect.get(t, key, t);
      if (typeof value !== "function" || key === "constructor") return value;
      return hook(key, value) ?? value.bind(t);
    },
  });
  unwrap.set(proxy, target);
  return proxy;
}

function statement(stmt) {
  return forward(stmt, (key, fn) => {
    if (key === "bind") return (...args) => (counters.d1.bind++, statement(fn.apply(stmt, args)));
    if (D1_STATEMENT_CALLS.has(key)) return (...args) => (roundTrip("d1", key), delayed(EDGE.d1Ms, () => fn.apply(stmt, args)));
  });
}

function d1(db) {
  return forward(db, (key, fn) => {
    if (key === "prepare") return (...args) => (counters.d1.prepare++, statement(fn.apply(db, args)));
    if (key === "batch")
      return (stmts, ...rest) => {
        const real = Array.from(stmts, (s) => unwrap.get(s) ?? s);
        roundTrip("d1", "batch", real.length);
        return delayed(EDGE.d1Ms, () => fn.call(db, real, ...rest));
      };
    if (key === "exec" || key === "dump") return (...args) => (roundTrip("d1", key), delayed(EDGE.d1Ms, () => fn.apply(db, args)));
    if (key === "withSession") return (...args) => d1(fn.apply(db, args));
  });
}

function kv(ns) {
  return forward(ns, (key, fn) => {
    if (KV_CALLS.has(key)) return (...args) => (roundTrip("kv", key), KV_READS.has(key) ? delayed(EDGE.kvMs, () => fn.apply(ns, args)) : fn.apply(ns, args));
  });
}

function r2(bucket) {
  return forward(bucket, (key, fn) => {
    if (R2_CALLS.has(key)) return (...args) => (roundTrip("r2", key), fn.apply(bucket, args));
  });
}

function instrument(value) {
  const kind = value?.constructor?.name;
  if (kind === "D1Database" || kind === "BetaDatabase") return d1(value);
  if (kind === "KvNamespace") return kv(value);
  if (kind === "R2Bucket") return r2(value);
  return value;
}

const wrappedEnvs = new WeakMap();
function wrapEnv(env) {
  let wrapped = wrappedEnvs.get(env);
  if (!wrapped) {
    wrapped = {};
    for (const key of Object.keys(env)) wrapped[key] = instrument(env[key]);
    wrappedEnvs.set(env, wrapped);
  }
  return wrapped;
}

// Work a request hands to ctx.waitUntil runs after its response: track it, so the
// harness can wait for it and its round trips land in the run that caused them.
function trackContext(ctx) {
  return forward(ctx, (key, fn) => {
    if (key !== "waitUntil") return undefined;
    return (promise) => {
      counters.waitUntil++;
      counters.deferred++;
      const done = () => void counters.deferred--;
      return fn.call(ctx, Promise.resolve(promise).then(done, (e) => (done(), Promise.reject(e))));
    };
  });
}

// workers-rs exports a WorkerEntrypoint class; a plain JS worker exports { fetch }.
const isClass = typeof Entry === "function";
const callWorker = (request, env, ctx) => (isClass ? new Entry(ctx, env).fetch(request) : Entry.fetch(request, env, ctx));

// ---- The in-isolate loop: POST /__bench/loop {requests: [{method, path, headers, body}]}.
// The first request runs against the real bindings while the result of every D1 and
// KV call it makes is recorded (as JSON text); then every request runs against a
// replay of those results, back to back inside this one request. The harness divides
// the workerd process's CPU time over the loop by the number of requests: what is
// left is the worker's own code and its calls into the runtime (Request, Response,
// Headers, crypto), without the HTTP server, the D1 binding or SQLite, which cost the
// same for two workers sending the same statements. The replayed bindings are the same
// plain JS for every worker under test.
const D1_CALLS = new Set(["first", "all", "run", "raw"]);

function recorder(env, log) {
  const record = (call, promise) =>
    promise.then((value) => (log.push({ call, text: value === undefined ? undefined : JSON.stringify(value) }), value));
  const statement = (stmt) =>
    forward(stmt, (key, fn) => {
      if (key === "bind") return (...args) => statement(fn.apply(stmt, args));
      if (D1_CALLS.has(key)) return (...args) => record(key, fn.apply(stmt, args));
    });
  const out = {};
  for (const [name, value] of Object.entries(env)) {
    const kind = value?.constructor?.name;
    if (kind === "D1Database" || kind === "BetaDatabase")
      out[name] = forward(value, (key, fn) => {
        if (key === "prepare") return (...args) => statement(fn.apply(value, args));
        if (key === "batch") return (stmts) => record("batch", fn.call(value, Array.from(stmts, (s) => unwrap.get(s) ?? s)));
      });
    else if (kind === "KvNamespace")
      out[name] = forward(value, (key, fn) => {
        if (KV_CALLS.has(key)) return (...args) => record(key, fn.apply(value, args));
      });
    else if (kind === "R2Bucket")
      // The object's metadata is recorded (its own properties: size, etags, range);
      // the body stays with the worker, and the replay gives a stream of that size.
      out[name] = forward(value, (key, fn) => {
        if (R2_CALLS.has(key)) return (...args) => record(`r2.${key}`, fn.apply(value, args));
      });
    else out[name] = value;
  }
  return out;
}

// Stand-ins that answer each call with the next recorded result. Named like the real
// bindings: workers-rs checks a binding's constructor name before using it.
class D1Database {
  constructor(replay) {
    this.replay = replay;
  }
  prepare(sql) {
    return new D1PreparedStatement(this.replay, sql, []);
  }
  batch(statements) {
    return this.replay("batch", statements.length);
  }
}
class D1PreparedStatement {
  constructor(replay, sql, params) {
    Object.assign(this, { replay, sql, params });
  }
  bind(...values) {
    return new D1PreparedStatement(this.replay, this.sql, values);
  }
  first() {
    return this.replay("first");
  }
  all() {
    return this.replay("all");
  }
  run() {
    return this.replay("run");
  }
  raw() {
    return this.replay("raw");
  }
}
class KvNamespace {
  constructor(replay) {
    for (const call of KV_CALLS) this[call] = () => replay(call);
  }
}

// Bodies of a given size, made once per isolate: a Blob's stream is lazy, so handing
// one to a Request or Response copies nothing until someone reads it.
const blobs = new Map();
const blobOfSize = (size) => {
  if (!blobs.has(size)) blobs.set(size, new Blob([new Uint8Array(size)]));
  return blobs.get(size);
};

// R2 stand-in: `put` answers the recorded object without reading the body it is given
// (the real R2 reads it inside the runtime, not in the worker); `get` answers the
// recorded object with a body stream of the recorded size.
class R2Bucket {
  constructor(replay) {
    this.replay = replay;
  }
  put() {
    return this.replay("r2.put");
  }
  async get() {
    const object = await this.replay("r2.get");
    if (object) object.body = blobOfSize(object.range?.length ?? object.size).stream();
    return object;
  }
  head() {
    return this.replay("r2.head");
  }
  delete() {
    return this.replay("r2.delete");
  }
  list() {
    return this.replay("r2.list");
  }
}

// One replaying env for the whole loop (building it per request would cost more than
// some workers' requests); `rewind()` starts the recording over for the next request.
function replayer(env, log) {
  let next = 0;
  const replay = async (call) => {
    const entry = log[next++];
    if (entry?.call !== call) throw new Error(`bench replay: call ${next} is ${call}, the recording has ${entry?.call ?? "nothing"}`);
    return entry.text === undefined ? undefined : JSON.parse(entry.text);
  };
  const out = {};
  for (const [name, value] of Object.entries(env)) {
    const kind = value?.constructor?.name;
    out[name] =
      kind === "D1Database" || kind === "BetaDatabase"
        ? new D1Database(replay)
        : kind === "KvNamespace"
          ? new KvNamespace(replay)
          : kind === "R2Bucket"
            ? new R2Bucket(replay)
            : value;
  }
  return {
    env: out,
    calls: () => next,
    rewind: () => void (next = 0),
  };
}

// Recordings kept by key (loops that ask for it): a scenario whose first request is
// costly in itself (an upload really storing 20 MB) records once per isolate, so that
// cost is not spread over every later loop's requests.
const recordings = new Map();

async function loop(requests, env, ctx, { discardBodies = false, recordOnce } = {}) {
  // With the Content-Length an HTTP client sends (a constructed Request has none). A
  // spec with `bodySize` (a file upload) gets a body of that many bytes, as a lazy Blob.
  const build = (spec) => {
    const headers = new Headers(spec.headers);
    let body = spec.body ?? null;
    if (spec.bodySize != null) body = blobOfSize(spec.bodySize);
    if (spec.bodySize != null) headers.set("Content-Length", String(spec.bodySize));
    else if (spec.body != null) headers.set("Content-Length", String(new TextEncoder().encode(spec.body).length));
    return new Request(`http://127.0.0.1${spec.path}`, { method: spec.method, headers, body });
  };
  // `keep`: read the answer (the recorded first one, shortened); otherwise a loop that
  // discards bodies cancels it unread (a file download: the client's reading is not
  // the worker's work).
  const settle = async (request, bindings, keep = !discardBodies) => {
    const deferred = [];
    const context = { waitUntil: (p) => void deferred.push(p), passThroughOnException() {}, props: ctx.props };
    const response = await callWorker(request, bindings, context);
    const body = keep ? (await response.text()).slice(0, 4000) : (await response.body?.cancel(), "");
    await Promise.allSettled(deferred);
    return { status: response.status, body };
  };
  let recording = recordOnce ? recordings.get(recordOnce) : undefined;
  if (!recording) {
    const log = [];
    recording = { log, first: await settle(build(requests[0]), recorder(env, log), true) };
    if (recordOnce) recordings.set(recordOnce, recording);
  }
  const { log, first } = recording;
  const statuses = {};
  let mismatched = 0;
  const replay = replayer(env, log);
  for (const spec of requests) {
    replay.rewind();
    const { status } = await settle(build(spec), replay.env);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (replay.calls() !== log.length) mismatched++;
  }
  return { recorded: { status: first.status, body: first.body, calls: log.map((e) => e.call) }, statuses, mismatched };
}

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === "/__bench/counters") return Response.json(counters);
    if (path === "/__bench/reset") return (counters = zero()), Response.json(counters);
    if (path === "/__bench/loop") {
      const { requests, discardBodies, recordOnce } = await request.json();
      return Response.json(await loop(requests, env, ctx, { discardBodies, recordOnce }));
    }
    counters.requests++;
    counters.inFlight++;
    try {
      const wrapped = wrapEnv(env);
      const context = trackContext(ctx);
      return await callWorker(request, wrapped, context);
    } finally {
      counters.inFlight--;
    }
  },
};
