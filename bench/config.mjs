// Settings of `make bench`. Each can be overridden from the environment, e.g.
//   BENCH_DURATION=2 BENCH_ROUNDS=1 BENCH_CONNECTIONS=8 BENCH_SCENARIOS=create make bench
// `make bench EDGE=1` (or `node bench/run.mjs --edge`) is the edge mode: D1 calls and
// KV reads delayed by a round trip, its own scenario set and defaults (bench/README.md).
const env = process.env;
const list = (v) => v.split(",").map((s) => s.trim()).filter(Boolean);
const edge = process.argv.includes("--edge") || env.BENCH_EDGE === "1";

export default {
  /** Edge mode: the wrapper delays every D1 call by `edgeD1Ms` and every KV read by `edgeKvMs`. */
  edge,
  edgeD1Ms: Number(env.EDGE_D1_MS ?? 10),
  edgeKvMs: Number(env.EDGE_KV_MS ?? 3),
  /** Concurrent connections, one load run per level (per round and target). 32 is left
   * out by default: on 2 cores it is queueing, and told nothing 8 did not. */
  connections: env.BENCH_CONNECTIONS ? list(env.BENCH_CONNECTIONS).map(Number) : [1, 8],
  /** The levels the seed-style and minimal yardsticks run at (the reference runs at every level). */
  yardstickConnections: [1, 8],
  /** Seconds per load run: short runs, so that every yardstick fits in the time limit
   * with enough rounds (the edge mode's answers are slower: longer runs). */
  duration: Number(env.BENCH_DURATION ?? (edge ? 2.5 : 1.5)),
  /** Rounds per level: each round runs every target once, in an order rotated each
   * round (product, reference, seed, ...; then reference, seed, ..., product): many
   * short rounds give a steadier median of same-round ratios than a few long ones. */
  rounds: Number(env.BENCH_ROUNDS ?? 5),
  /** Rounds for scenarios only the product implements (no same-round ratio to take). */
  soloRounds: Number(env.BENCH_SOLO_ROUNDS ?? 1),
  /** Seconds of unmeasured load per scenario and target before its first round. */
  warmup: Number(env.BENCH_WARMUP ?? 1),
  /** Load runs (autocannon over HTTP); BENCH_LOAD=0 runs only the in-isolate loops. */
  load: env.BENCH_LOAD !== "0",
  /** In-isolate loop (bench/lib/loop.mjs): alternating rounds per scenario, 0 = none.
   * The edge mode runs none: the delays do not change the worker's own CPU. */
  loopRounds: Number(env.BENCH_LOOP_ROUNDS ?? (edge ? 0 : 5)),
  /** About how many seconds of CPU one loop run takes. */
  loopSeconds: Number(env.BENCH_LOOP_SECONDS ?? 1),
  /** Only these scenarios (names from bench/scenarios.mjs); empty = all (the edge mode:
   * those marked `edge`). */
  only: env.BENCH_SCENARIOS ? list(env.BENCH_SCENARIOS) : [],
  /** Fresh-start measurements per worker (startup time); the edge mode takes none. */
  startups: Number(env.BENCH_STARTUPS ?? (edge ? 0 : 5)),
  /** Runs that would end past this many seconds are left out; 30 s later the bench aborts. */
  deadlineSeconds: Number(env.BENCH_DEADLINE ?? 480),
  /** Where the JSON and markdown go (latest.json, latest.md, plus a timestamped copy;
   * latest-edge.* in the edge mode). */
  outDir: env.BENCH_OUT ?? "bench/results",

  /**
   * Vars given to both workers on top of wrangler.toml's [vars]. Raise every rate limit
   * here so the load measures the code, not the limiter; a run that still gets 429s says
   * so in its report.
   */
  vars: {
    // The public create's sliding-window limits (src/config.rs caps them at 1,000,000 per
    // window). The limiter still runs: its count and insert are part of the measured create.
    RATE_LIMIT_PER_EMAIL: "1000000",
    RATE_LIMIT_PER_IP: "1000000",
    // The login throttle counts each attempt before PBKDF2 and gives it back on success,
    // so parallel logins of one account (the login scenario at 8 and 32 connections)
    // would be refused with 429 past 5 at once. Raised to the caps of src/config.rs.
    LOGIN_MAX_FAILURES_PER_EMAIL: "1000",
    LOGIN_MAX_FAILURES_PER_IP: "100000",
    // Customers' status links: the create answers an access_token and status_url (an
    // HMAC per create), and the status-lookup scenario can run. A fixed bench-only value,
    // so parity can check tokens. PUBLIC_BASE_URL makes the links the same on both
    // workers (otherwise each uses its own 127.0.0.1 port).
    TICKET_TOKEN_SECRET: "bench-only-ticket-token-secret-0123456789",
    PUBLIC_BASE_URL: "https://help.bench.example",
    // Attachments: 20 MB files are allowed (the default is 10 MB), and neither the
    // ticket's limits nor the reply/upload rate limits stop the upload scenarios (all
    // at the caps of src/config.rs).
    MAX_ATTACHMENT_BYTES: "25000000",
    MAX_ATTACHMENT_BYTES_PER_TICKET: String(2 ** 40),
    MAX_ATTACHMENTS_PER_TICKET: "100000",
    CUSTOMER_REPLIES_PER_TICKET: "100000",
    REPLIES_PER_IP: "1000000",
    // No EMAIL_API_KEY, WEBHOOK_URL or WEBHOOK_SECRET: outbox rows are written as skipped,
    // and nothing runs after the response. (Were they set, every outbound fetch would get
    // the harness's 503, and the report would count it.)
  },
};
