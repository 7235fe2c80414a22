/**
 * `npm run bench`: Tuiding against a bare echo bot on the same stack, over real HTTP on 127.0.0.1.
 *
 *   node dist/bench/run.js [--conversations 50] [--rounds 20] [--repeat 5] [--warmup-rounds 5]
 *                          [--stored-small 100] [--stored-large 100000] [--stored-rounds 6]
 *                          [--stored-repeat 2] [--skip-stored] [--profile] [--keep] [--out file]
 *
 * --quiet-wait S waits up to S seconds (default 10) before each measured run for other processes
 * to leave the CPU alone (a shared machine); the share they used anyway is in the report.
 * --profile runs the first Tuiding and the first echo bot with --cpu-prof and summarises where
 * their main threads' CPU went during the measured runs, per turn, side by side; --keep leaves the
 * work folder (data folders, the raw .cpuprofiles) in place.
 *
 * Each bot is a child process (`node dist/src/main.js`, `node dist/bench/echo-bot.js`); this
 * process is the load generator and the channel that receives the replies, as Bot Framework
 * Emulator is. A flow is one whole cancellation in a new conversation: 退订视频彩铃 → a number →
 * the code from GET /dev/sms → 确认, every reply checked. `conversations` flows run at once, each
 * worker starting its next flow when one ends, `rounds` flows per worker.
 *
 *   1. NLU utterances per second on one core (createNlu, in this process, before any load).
 *   2. `repeat` × (Tuiding on a fresh DATA_DIR with its own subscribers, then a fresh echo bot with
 *      the same number of replies per turn); each process first runs `warmup-rounds` unmeasured
 *      flows per worker, so that both are measured at steady state (code compiled by the JIT), as
 *      a bot that has been up a while runs; figures are the medians over the repetitions.
 *   3. `stored-repeat` × (Tuiding with `stored-small`, then `stored-large` conversations already
 *      stored, written through LowdbBotStore before start): start-up and turn latency.
 * Prints a report, writes it as JSON (--out), and ends with one line of JSON (the summary).
 * Other work on the machine skews every figure: the share of CPU used by other processes during
 * the measured runs is reported, with a warning above 10 %.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogue } from '../src/domain/catalogue.js';
import { loadCorpus } from '../src/nlu/corpus.js';
import { createNlu } from '../src/nlu/index.js';
import { DATA_ASSETS_DIR, PROJECT_ROOT } from '../src/paths.js';
import { LowdbBotStore } from '../src/store/lowdb-bot-store.js';
import type { ConversationRecord } from '../src/store/stores.js';
import { BenchChannel } from './lib/channel.js';
import { cpuMs, freePort, machineCpuMs, mainThreadCpuMs, rssBytes, sampleRss, startChild, stopChild, waitQuiet, type Started } from './lib/child.js';
import { runFlows, STEPS } from './lib/driver.js';
import { destroyAgents, request } from './lib/http.js';
import { summariseProfile, type ProfileSummary } from './lib/profile.js';
import { round, summarise, type LatencySummary } from './lib/stats.js';

interface Options {
  conversations: number;
  rounds: number;
  repeat: number;
  warmupRounds: number;
  storedSmall: number;
  storedLarge: number;
  storedRounds: number;
  storedRepeat: number;
  skipStored: boolean;
  profile: boolean;
  keep: boolean;
  /** Longest wait for a quiet machine before each measured run, ms (0: do not wait). */
  quietWaitMs: number;
  out: string;
}

const USAGE = 'node dist/bench/run.js [--conversations 50] [--rounds 20] [--repeat 5] [--warmup-rounds 5] [--stored-small 100] [--stored-large 100000] [--stored-rounds 6] [--stored-repeat 2] [--skip-stored] [--profile] [--keep] [--quiet-wait 10] [--out bench/results/latest.json]';

function parseArgs(argv: string[]): Options {
  const o: Options = {
    conversations: 50, rounds: 20, repeat: 5, warmupRounds: 5, storedSmall: 100, storedLarge: 100_000, storedRounds: 6, storedRepeat: 2,
    skipStored: false, profile: false, keep: false, quietWaitMs: 10_000, out: join(PROJECT_ROOT, 'bench', 'results', 'latest.json'),
  };
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} needs a whole number from ${min} to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '--conversations': o.conversations = int('conversations', value(), 1, 500); break;
      case '--rounds': o.rounds = int('rounds', value(), 1, 200); break;
      case '--repeat': o.repeat = int('repeat', value(), 1, 10); break;
      case '--warmup-rounds': o.warmupRounds = int('warmup-rounds', value(), 0, 20); break;
      case '--stored-small': o.storedSmall = int('stored-small', value(), 0, 1_000_000); break;
      case '--stored-large': o.storedLarge = int('stored-large', value(), 0, 1_000_000); break;
      case '--stored-rounds': o.storedRounds = int('stored-rounds', value(), 1, 200); break;
      case '--stored-repeat': o.storedRepeat = int('stored-repeat', value(), 1, 10); break;
      case '--skip-stored': o.skipStored = true; break;
      case '--profile': o.profile = true; break;
      case '--keep': o.keep = true; break;
      case '--quiet-wait': o.quietWaitMs = int('quiet-wait', value(), 0, 120) * 1000; break;
      case '--out': o.out = String(value()); break;
      case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  return o;
}

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_JS = join(DIST, 'src', 'main.js');
/**
 * The Node flags `npm start` runs the bot with (package.json config.nodeFlags), so that the bench
 * measures the bot as it is started; the echo bot runs with Node's defaults, as the bare stack.
 */
const BOT_NODE_FLAGS: string[] = String((JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { config?: { nodeFlags?: string } }).config?.nodeFlags ?? '')
  .split(/\s+/).filter((flag) => flag.length > 0);
const ECHO_JS = join(DIST, 'bench', 'echo-bot.js');
/** Whole-run budget: the bench stops by itself (children included) if something hangs. */
const WATCHDOG_MS = 10 * 60_000;
const MB = 1024 * 1024;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Subscriber numbers of the bench (199 + 8 digits), one per flow, none of them a demo number. */
function numberOf(index: number): string {
  return `199${String(index).padStart(8, '0')}`;
}

/** A seed file in the shape of data/demo-subscribers.json; each number has four services. */
function writeSeed(file: string, count: number): void {
  const subscribers = Array.from({ length: count }, (_, i) => ({
    msisdn: numberOf(i),
    servicePassword: '246810',
    idLast6: '12345X',
    arrearsFen: 0,
    balanceFen: 5630,
    boundAccounts: ['微信支付'],
    subscriptions: [
      { subscriptionId: `b${i}-1`, serviceId: 'vas-video-ringback', since: '2024-03-15', channel: '短信' },
      { subscriptionId: `b${i}-2`, serviceId: 'vas-music-member', since: '2025-01-08', channel: 'APP' },
      { subscriptionId: `b${i}-3`, serviceId: 'addon-data-10g', since: '2025-06-01', channel: 'APP' },
      { subscriptionId: `b${i}-4`, serviceId: 'plan-5g-129', since: '2025-07-01', channel: '营业厅', contractEndsAt: '2027-06-30', penaltyFen: 30000 },
    ],
  }));
  writeFileSync(file, JSON.stringify({ subscribers }));
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = statSync(path);
    total += s.isDirectory() ? dirBytes(path) : s.size;
  }
  return total;
}

function botEnv(port: number, dataDir: string, seedFile: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // Set (empty) so that a .env in the project cannot switch authentication on for the bench.
    MicrosoftAppId: '',
    MicrosoftAppPassword: '',
    BACKEND: 'embedded',
    SMS: 'embedded',
    EMBEDDED_SEED_FILE: seedFile,
    // No status changes (and so no unprompted messages) while measuring.
    EMBEDDED_STATUS_DELAY_MS: String(3_600_000),
    CODE_RESEND_SECONDS: '0',
    CODE_MAX_PER_HOUR: '1000000',
    SHUTDOWN_GRACE_MS: '5000',
  };
}

interface Measured {
  turnsPerSec: number;
  latency: LatencySummary;
  flows: number;
  turns: number;
  failures: string[];
  elapsedMs: number;
  repliesPerStep: number[];
  /** p50/p99 per step (1: 退订视频彩铃, 2: number, 3: code, 4: 确认), ms. */
  stepLatency: { p50Ms: number; p99Ms: number }[];
  rssRestMb: number;
  rssLoadMb: number;
  readyMs: number;
  /** CPU the target process used per turn during the measured run (all its threads), ms. */
  cpuMsPerTurn: number;
  /** Of that, its main thread's (the event loop, where the HTTP requests and the turns run), ms. */
  loopCpuMsPerTurn: number;
  /** CPU this process (load generator and channel) used per turn, ms. */
  driverCpuMsPerTurn: number;
  /** Share of the machine's CPU used by processes other than the target and this one, %. */
  backgroundCpuPct: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Load {
  kind: 'bot' | 'echo';
  label: string;
  rounds: number;
  /** Index of the first subscriber number this run may use. */
  firstNumber: number;
  repliesPerStep?: number[];
  warmup: boolean;
}

/** Optional warm-up (unmeasured), then the measured run with RSS, CPU and machine load sampled. */
async function measure(target: Started, channel: BenchChannel, o: Options, load: Load, onRun?: (phase: 'start' | 'end') => void): Promise<Measured> {
  const pid = target.child.pid!;
  const rssRest = rssBytes(pid);
  const perRound = o.conversations;
  let next = load.firstNumber;
  if (load.warmup && o.warmupRounds > 0) {
    const from = next;
    const warm = await runFlows({
      kind: load.kind, botUrl: target.url, channel, conversations: o.conversations, rounds: o.warmupRounds, label: `${load.label}-warm`,
      repliesPerStep: load.repliesPerStep, numberOf: (w, r) => numberOf(from + r * perRound + w),
    });
    if (warm.failures.length > 0) throw new Error(`warm-up failed:\n${warm.failures.slice(0, 5).join('\n')}\n${target.stderr()}`);
    next += o.warmupRounds * perRound;
  }
  const from = next;
  if (o.quietWaitMs > 0) {
    const q = await waitQuiet(o.quietWaitMs);
    if (!q.quiet) log(`bench: the machine stayed busy for ${Math.round(q.waitedMs / 1000)} s; measuring anyway`);
  }
  // Kept-alive connections idle for longer than the server's keep-alive timeout (5 s) may be
  // closed by the server just as they are reused (ECONNRESET): start with fresh ones, opened
  // before the clock starts so that no measured turn pays for a TCP connect.
  destroyAgents();
  await Promise.all(Array.from({ length: o.conversations }, () => request(`${target.url}/healthz`, { method: 'GET' })));
  const rss = sampleRss(pid);
  const cpu0 = cpuMs(pid);
  const loop0 = mainThreadCpuMs(pid);
  const self0 = process.cpuUsage();
  const machine0 = machineCpuMs();
  onRun?.('start');
  const r = await runFlows({
    kind: load.kind, botUrl: target.url, channel, conversations: o.conversations, rounds: load.rounds, label: load.label,
    repliesPerStep: load.repliesPerStep, numberOf: (w, rr) => numberOf(from + rr * perRound + w),
  });
  onRun?.('end');
  const cpu = cpuMs(pid) - cpu0;
  const loop = mainThreadCpuMs(pid) - loop0;
  const self = process.cpuUsage(self0);
  const machine1 = machineCpuMs();
  const rssLoad = rss.stop();
  const machineBusy = machine1.busy - machine0.busy;
  const machineTotal = Math.max(1, machine1.total - machine0.total);
  const ours = cpu + (self.user + self.system) / 1000;
  return {
    turnsPerSec: round(r.turns / (r.elapsedMs / 1000), 1),
    latency: summarise(r.latencies),
    flows: r.flows,
    turns: r.turns,
    failures: r.failures,
    elapsedMs: round(r.elapsedMs, 0),
    repliesPerStep: r.repliesPerStep.map((xs) => Math.round(median(xs))),
    stepLatency: r.latenciesPerStep.map((xs) => { const l = summarise(xs); return { p50Ms: l.p50Ms, p99Ms: l.p99Ms }; }),
    rssRestMb: round(rssRest / MB, 1),
    rssLoadMb: round(rssLoad / MB, 1),
    readyMs: round(target.readyMs, 0),
    cpuMsPerTurn: round(cpu / Math.max(1, r.turns), 3),
    loopCpuMsPerTurn: round(loop / Math.max(1, r.turns), 3),
    driverCpuMsPerTurn: round((self.user + self.system) / 1000 / Math.max(1, r.turns), 3),
    backgroundCpuPct: round(Math.max(0, (machineBusy - ours) / machineTotal) * 100, 1),
  };
}

/**
 * The profile of the first Tuiding run by area, in main-thread CPU ms per turn next to the echo
 * bot's (when it was profiled too), and the functions with the most self time.
 */
function profileLines(bot: ProfileSummary, botTurns: number, echo: ProfileSummary | undefined, echoTurns: number, replyThread?: ProfileSummary): string[] {
  const perTurn = (ms: number, turns: number) => (turns > 0 ? (ms / turns).toFixed(3) : '-');
  const echoMs = new Map((echo?.areas ?? []).map((a) => [a.area, a.ms]));
  const areas = [...new Set([...bot.areas.map((a) => a.area), ...echoMs.keys()])];
  const botMs = new Map(bot.areas.map((a) => [a.area, a.ms]));
  return [
    '',
    `main-thread CPU by area, ms per turn (profiles of run #1: tuiding ${bot.busyMs} ms busy${echo ? `, echo ${echo.busyMs} ms` : ''}):`,
    `  ${'area'.padEnd(40)} ${'tuiding'.padStart(8)} ${'echo'.padStart(8)}`,
    `  ${'all'.padEnd(40)} ${perTurn(bot.busyMs, botTurns).padStart(8)} ${(echo ? perTurn(echo.busyMs, echoTurns) : '-').padStart(8)}`,
    ...areas.slice(0, 16).map((a) => `  ${a.padEnd(40)} ${perTurn(botMs.get(a) ?? 0, botTurns).padStart(8)} ${(echo ? perTurn(echoMs.get(a) ?? 0, echoTurns) : '-').padStart(8)}`),
    ...(replyThread ? [`tuiding's reply thread (sending activities): ${perTurn(replyThread.busyMs, botTurns)} ms per turn, ${replyThread.areas.slice(0, 4).map((a) => `${a.area} ${perTurn(a.ms, botTurns)}`).join(', ')}`] : []),
    'tuiding, top functions (self time):',
    ...bot.top.slice(0, 12).map((f) => `  ${String(f.share).padStart(5)} %  ${f.fn}`),
  ];
}

/** Runs in which other processes used more of the machine than this are left out of the figures. */
const DISTURBED_PCT = 10;

/**
 * The figures of one target: medians over its undisturbed runs (all runs when every one was
 * disturbed), and every run for the record.
 */
function combine(all: Measured[]) {
  const clean = all.filter((m) => m.backgroundCpuPct <= DISTURBED_PCT);
  const runs = clean.length > 0 ? clean : all;
  const pick = (f: (m: Measured) => number) => round(median(runs.map(f)), 3);
  return {
    turnsPerSec: pick((m) => m.turnsPerSec),
    latency: {
      count: runs.reduce((n, m) => n + m.latency.count, 0),
      p50Ms: pick((m) => m.latency.p50Ms),
      p95Ms: pick((m) => m.latency.p95Ms),
      p99Ms: pick((m) => m.latency.p99Ms),
      maxMs: Math.max(...runs.map((m) => m.latency.maxMs)),
      meanMs: pick((m) => m.latency.meanMs),
    },
    readyMs: pick((m) => m.readyMs),
    // At rest = after start-up, before the first load (later runs of the echo bot reuse its process).
    rssRestMb: all[0]?.rssRestMb ?? 0,
    rssLoadMb: Math.max(...all.map((m) => m.rssLoadMb)),
    cpuMsPerTurn: pick((m) => m.cpuMsPerTurn),
    loopCpuMsPerTurn: pick((m) => m.loopCpuMsPerTurn),
    driverCpuMsPerTurn: pick((m) => m.driverCpuMsPerTurn),
    /** Of the runs the figures come from. */
    backgroundCpuPct: Math.max(...runs.map((m) => m.backgroundCpuPct)),
    cleanRuns: clean.length,
    flows: all.reduce((n, m) => n + m.flows, 0),
    failures: all.flatMap((m) => m.failures),
    repliesPerStep: all[0]?.repliesPerStep ?? [],
    stepLatency: (all[0]?.stepLatency ?? []).map((_, i) => ({ p50Ms: round(median(runs.map((m) => m.stepLatency[i]!.p50Ms)), 2), p99Ms: round(median(runs.map((m) => m.stepLatency[i]!.p99Ms)), 2) })),
    runs: all.map((m) => ({ turnsPerSec: m.turnsPerSec, p50Ms: m.latency.p50Ms, p99Ms: m.latency.p99Ms, readyMs: m.readyMs, cpuMsPerTurn: m.cpuMsPerTurn, loopCpuMsPerTurn: m.loopCpuMsPerTurn, backgroundCpuPct: m.backgroundCpuPct })),
  };
}

/**
 * NLU parses per second on one core, over the corpus utterances and the bench's own: the median
 * of five 400 ms windows.
 */
function measureNlu(): { utterancesPerSec: number; utterances: number; buildMs: number } {
  const catalogue = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'));
  const t0 = performance.now();
  const nlu = createNlu(catalogue);
  const buildMs = performance.now() - t0;
  const texts = [...loadCorpus().map((e) => e.text), ...STEPS.filter((s) => !s.startsWith('<')), '13800138000', '123456', '不退了', '第二个'];
  for (let i = 0; i < 1000; i++) nlu.parse(texts[i % texts.length]!);
  const rates: number[] = [];
  let n = 0;
  for (let w = 0; w < 5; w++) {
    const start = performance.now();
    let parsed = 0;
    while (performance.now() - start < 400) {
      for (let i = 0; i < 100; i++) nlu.parse(texts[(n + i) % texts.length]!);
      n += 100;
      parsed += 100;
    }
    rates.push(parsed / ((performance.now() - start) / 1000));
  }
  return { utterancesPerSec: round(median(rates), 0), utterances: texts.length, buildMs: round(buildMs, 0) };
}

/** Writes `count` conversations into a fresh store, alternating the given records (ids changed). */
async function seedConversations(dataDir: string, count: number, templates: ConversationRecord[]): Promise<number> {
  const t0 = performance.now();
  const store = await LowdbBotStore.open(dataDir);
  try {
    const chunk = 2000;
    for (let i = 0; i < count; i += chunk) {
      const puts: Promise<void>[] = [];
      for (let j = i; j < Math.min(count, i + chunk); j++) {
        const t = templates[j % templates.length]!;
        const id = `stored-${j}`;
        puts.push(store.putConversation({ ...t, id, reference: { ...(t.reference as Record<string, unknown>), conversation: { id } } }));
      }
      await Promise.all(puts);
    }
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

/** What the bot stored for a finished and for a half-way conversation: templates for seeding. */
async function readTemplates(dataDir: string, ids: string[]): Promise<ConversationRecord[]> {
  const store = await LowdbBotStore.open(dataDir);
  try {
    const found: ConversationRecord[] = [];
    for (const id of ids) {
      const r = await store.getConversation(id);
      if (r) found.push(r);
    }
    if (found.length === 0) throw new Error('the bot stored none of the bench conversations');
    return found;
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'tuiding-bench-'));
  const children: Started[] = [];
  const watchdog = setTimeout(() => {
    log(`bench: over ${WATCHDOG_MS / 60_000} minutes, stopping`);
    for (const c of children) c.child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  const channel = new BenchChannel();
  await channel.start();

  // Every bot starts on a fresh DATA_DIR, so each can use the same numbers (one per flow).
  const flowsPerBot = o.conversations * (o.warmupRounds + Math.max(o.rounds, o.storedRounds)) + 1;
  const probeNumber = flowsPerBot - 1;
  const seedFile = join(work, 'subscribers.json');
  writeSeed(seedFile, flowsPerBot);

  const spawn = async (args: string[], env: Record<string, string>, port: number): Promise<Started> => {
    // Start-up time is measured too: the same chance of a quiet machine as the runs get.
    if (o.quietWaitMs > 0) await waitQuiet(o.quietWaitMs);
    const s = await startChild(args, env, port);
    children.push(s);
    // Let start-up work (JIT, timers, first sweeps) settle before RSS at rest is read.
    await new Promise((r) => setTimeout(r, 300));
    return s;
  };
  const stop = async (s: Started) => {
    await stopChild(s.child);
    children.splice(children.indexOf(s), 1);
  };

  try {
    const loadBefore = loadavg()[0]!;
    log(`bench: ${o.conversations} concurrent conversations × ${o.rounds} cancellation flows (${STEPS.length} turns each), ${o.repeat} repetition(s); load average ${loadBefore.toFixed(2)} on ${cpus().length} CPUs; Tuiding runs with ${BOT_NODE_FLAGS.join(' ') || 'no Node flags'} (package.json config.nodeFlags, as npm start)`);

    // 1. NLU, before any other load.
    if (o.quietWaitMs > 0) await waitQuiet(o.quietWaitMs);
    const nlu = measureNlu();
    log(`nlu: ${nlu.utterancesPerSec} utterances/s on one core (${nlu.utterances} distinct utterances; trained in ${nlu.buildMs} ms)`);

    // 2. Tuiding and the echo bot, alternately.
    const botRuns: Measured[] = [];
    const echoRuns: Measured[] = [];
    let echo: Started | undefined;
    let profile: ProfileSummary | undefined;
    let echoProfile: ProfileSummary | undefined;
    /** Tuiding's reply thread (src/channels/reply-thread.ts), the first worker thread. */
    let replyThreadProfile: ProfileSummary | undefined;
    const echoProfileDir = join(work, 'profile-echo');
    let mainDir = '';
    const nowUs = () => Number(process.hrtime.bigint() / 1000n);
    let conversationsStored = 0;
    for (let rep = 0; rep < o.repeat; rep++) {
      mainDir = join(work, `data-main-${rep}`);
      mkdirSync(mainDir);
      const profileDir = join(work, `profile-${rep}`);
      const profiling = o.profile && rep === 0;
      const port = await freePort();
      const bot = await spawn([...BOT_NODE_FLAGS, ...(profiling ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), MAIN_JS], botEnv(port, mainDir, seedFile), port);
      // One conversation left before the confirmation, so that a half-way dialog can be seeded later.
      const probe = await runFlows({ kind: 'bot', botUrl: bot.url, channel, conversations: 1, rounds: 1, label: 'probe', stopAfterStep: 3, numberOf: () => numberOf(probeNumber) });
      if (probe.failures.length > 0) throw new Error(`probe conversation failed: ${probe.failures[0]}\n${bot.stderr()}`);
      const window = { from: 0, to: 0 };
      const run = await measure(bot, channel, o, { kind: 'bot', label: 'main', rounds: o.rounds, firstNumber: 0, warmup: true }, (phase) => {
        window[phase === 'start' ? 'from' : 'to'] = nowUs();
      });
      await stop(bot);
      if (profiling) {
        profile = summariseProfile(profileDir, window.from, window.to);
        replyThreadProfile = summariseProfile(profileDir, window.from, window.to, 1);
      }
      botRuns.push(run);
      conversationsStored = o.conversations * (o.warmupRounds + o.rounds) + 1;
      log(`tuiding #${rep + 1}: ${run.turnsPerSec} turns/s, p50 ${run.latency.p50Ms} ms, p99 ${run.latency.p99Ms} ms, ${run.cpuMsPerTurn} ms CPU/turn (event loop ${run.loopCpuMsPerTurn}), ready in ${run.readyMs} ms, ${run.failures.length} failed flows, background CPU ${run.backgroundCpuPct} %`);
      if (run.failures.length > 0) log(run.failures.slice(0, 5).join('\n'));

      // A fresh echo process each time, warmed up as much as Tuiding was: a process kept from one
      // repetition to the next would be measured warmer than the Tuiding it is compared with.
      const echoPort = await freePort();
      echo = await spawn([...(profiling ? ['--cpu-prof', `--cpu-prof-dir=${echoProfileDir}`] : []), ECHO_JS], { PATH: process.env.PATH ?? '', PORT: String(echoPort), HOST: '127.0.0.1' }, echoPort);
      const echoWindow = { from: 0, to: 0 };
      const e = await measure(echo, channel, o, { kind: 'echo', label: `echo${rep}`, rounds: o.rounds, firstNumber: 0, repliesPerStep: botRuns[0]!.repliesPerStep, warmup: true }, (phase) => {
        echoWindow[phase === 'start' ? 'from' : 'to'] = nowUs();
      });
      await stop(echo);
      echo = undefined;
      if (profiling) echoProfile = summariseProfile(echoProfileDir, echoWindow.from, echoWindow.to);
      echoRuns.push(e);
      log(`echo    #${rep + 1}: ${e.turnsPerSec} turns/s, p50 ${e.latency.p50Ms} ms, p99 ${e.latency.p99Ms} ms, ${e.cpuMsPerTurn} ms CPU/turn (event loop ${e.loopCpuMsPerTurn}), background CPU ${e.backgroundCpuPct} %`);
      if (rep < o.repeat - 1 && !o.keep) rmSync(mainDir, { recursive: true, force: true });
    }
    const mainBytes = dirBytes(mainDir);
    const botStoreBytes = dirBytes(join(mainDir, 'bot'));
    const botRun = combine(botRuns);
    const echoRun = combine(echoRuns);

    // 3. Latency and start-up with many conversations already stored.
    type StoredRun = ReturnType<typeof combine> & { conversations: number; seedMs: number; storeBytes: number; bytesPerConversation: number };
    const stored: Record<string, StoredRun> = {};
    if (!o.skipStored) {
      const templates = await readTemplates(mainDir, ['main-w0-r0', 'probe-w0-r0']);
      const counts = [o.storedSmall, o.storedLarge];
      const pristine = new Map<number, { dir: string; seedMs: number; storeBytes: number }>();
      for (const count of counts) {
        const dir = join(work, `stored-${count}`);
        mkdirSync(dir);
        const seedMs = await seedConversations(dir, count, templates);
        pristine.set(count, { dir, seedMs, storeBytes: dirBytes(join(dir, 'bot', 'conversations')) });
        log(`stored ${count}: seeded in ${round(seedMs, 0)} ms`);
      }
      const runs = new Map<number, Measured[]>(counts.map((c) => [c, []]));
      for (let rep = 0; rep < o.storedRepeat; rep++) {
        for (const count of counts) {
          // A fresh copy each time: the same stored conversations, no operator or SMS data yet.
          const dir = join(work, `data-${count}-${rep}`);
          cpSync(pristine.get(count)!.dir, dir, { recursive: true });
          const port = await freePort();
          const b = await spawn([...BOT_NODE_FLAGS, MAIN_JS], botEnv(port, dir, seedFile), port);
          const run = await measure(b, channel, o, { kind: 'bot', label: `stored${count}-${rep}`, rounds: o.storedRounds, firstNumber: 0, warmup: true });
          await stop(b);
          rmSync(dir, { recursive: true, force: true });
          runs.get(count)!.push(run);
          log(`stored ${count} #${rep + 1}: ready in ${run.readyMs} ms, RSS ${run.rssRestMb} MB, ${run.turnsPerSec} turns/s, p50 ${run.latency.p50Ms} ms, p99 ${run.latency.p99Ms} ms, background CPU ${run.backgroundCpuPct} %`);
        }
      }
      for (const count of counts) {
        const p = pristine.get(count)!;
        stored[String(count)] = { conversations: count, seedMs: round(p.seedMs, 0), storeBytes: p.storeBytes, bytesPerConversation: count > 0 ? Math.round(p.storeBytes / count) : 0, ...combine(runs.get(count)!) };
      }
    }

    const small = stored[String(o.storedSmall)];
    const large = stored[String(o.storedLarge)];
    const ratio = round(botRun.turnsPerSec / echoRun.turnsPerSec, 3);
    const p99Ratio = round(botRun.latency.p99Ms / echoRun.latency.p99Ms, 3);
    // Each Tuiding run next to the echo run right after it: how much the headline ratios move between pairs.
    const pairs = botRuns.map((b, i) => ({
      ratio: round(b.turnsPerSec / echoRuns[i]!.turnsPerSec, 3),
      p99Ratio: round(b.latency.p99Ms / echoRuns[i]!.latency.p99Ms, 3),
    }));
    const storedRatio = small && large ? round(large.latency.p99Ms / small.latency.p99Ms, 3) : null;
    const storedP50Ratio = small && large ? round(large.latency.p50Ms / small.latency.p50Ms, 3) : null;
    const background = Math.max(botRun.backgroundCpuPct, echoRun.backgroundCpuPct, ...Object.values(stored).map((s) => s.backgroundCpuPct));
    const report = {
      at: new Date().toISOString(),
      machine: { node: process.version, cpus: cpus().length, model: cpus()[0]?.model, loadAverageBefore: round(loadBefore, 2), backgroundCpuPctMax: background, botNodeFlags: BOT_NODE_FLAGS },
      options: o,
      nlu,
      bot: { ...botRun, failures: botRun.failures.slice(0, 20), dataDirBytes: mainBytes, botStoreBytes, conversationsStored,
        dataDirBytesPerConversation: Math.round(mainBytes / conversationsStored), botStoreBytesPerConversation: Math.round(botStoreBytes / conversationsStored) },
      echo: { ...echoRun, failures: echoRun.failures.slice(0, 20) },
      stored,
      profile,
      echoProfile,
      replyThreadProfile,
      pairs,
      targets: {
        throughput: { want: '≥ 0.8 × echo', ratio, met: ratio >= 0.8 },
        p99: { want: '≤ 1.25 × echo', ratio: p99Ratio, met: p99Ratio <= 1.25 },
        storedLatency: { want: `p99 with ${o.storedLarge} stored ≤ 1.5 × with ${o.storedSmall}`, ratio: storedRatio, p50Ratio: storedP50Ratio, met: storedRatio === null ? null : storedRatio <= 1.5 },
        startup: { want: '< 2000 ms', ms: botRun.readyMs, msLarge: large?.readyMs ?? null, met: botRun.readyMs < 2000 && (large ? large.readyMs < 2000 : true) },
      },
      durationMs: Date.now() - started,
    };
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);

    const row = (name: string, m: { turnsPerSec: number; latency: LatencySummary; cpuMsPerTurn: number; loopCpuMsPerTurn: number }) =>
      `${name.padEnd(26)} ${String(m.turnsPerSec).padStart(8)} ${String(m.latency.p50Ms).padStart(8)} ${String(m.latency.p95Ms).padStart(8)} ${String(m.latency.p99Ms).padStart(8)} ${String(m.cpuMsPerTurn).padStart(11)} ${String(m.loopCpuMsPerTurn).padStart(12)}`;
    const lines = [
      '',
      `${o.conversations} concurrent conversations × ${o.rounds} flows × ${STEPS.length} turns, ${o.repeat} run(s) each (stored: ${o.storedRepeat} × ${o.storedRounds} flows); medians of the runs other processes did not disturb (tuiding ${botRun.cleanRuns}/${botRuns.length}, echo ${echoRun.cleanRuns}/${echoRuns.length})`,
      `${'run'.padEnd(26)} ${'turns/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU ms/turn'.padStart(11)} ${'loop ms/turn'.padStart(12)}`,
      row('echo bot', echoRun),
      row('tuiding', botRun),
      ...(small ? [row(`tuiding, ${small.conversations} stored`, small)] : []),
      ...(large ? [row(`tuiding, ${large.conversations} stored`, large)] : []),
      '',
      `throughput ratio ${ratio} (target ≥ 0.8)   p99 ratio ${p99Ratio} (target ≤ 1.25)   p99 ${o.storedLarge}/${o.storedSmall} stored ${storedRatio ?? '-'} (target ≤ 1.5; p50 ${storedP50Ratio ?? '-'})`,
      `per pair of runs (Tuiding, then the echo bot): throughput ratio ${pairs.map((x) => x.ratio).join(', ')}; p99 ratio ${pairs.map((x) => x.p99Ratio).join(', ')}`,
      `start-up to /healthz: tuiding ${botRun.readyMs} ms${large ? `, with ${large.conversations} stored ${large.readyMs} ms` : ''}, echo ${echoRun.readyMs} ms (target < 2000 ms)`,
      `RSS at rest / under load: tuiding ${botRun.rssRestMb} / ${botRun.rssLoadMb} MB${large ? ` (${large.rssRestMb} MB at rest with ${large.conversations} stored)` : ''}, echo ${echoRun.rssRestMb} / ${echoRun.rssLoadMb} MB`,
      `stored bytes per conversation: ${large ? `${large.bytesPerConversation} B in the conversation log (${large.conversations} seeded); ` : ''}after a run ${report.bot.botStoreBytesPerConversation} B in the bot store, ${report.bot.dataDirBytesPerConversation} B in all of DATA_DIR (superseded lines not compacted yet, operator, SMS and transcript files)`,
      `load generator and channel CPU per turn: ${botRun.driverCpuMsPerTurn} ms (tuiding runs), ${echoRun.driverCpuMsPerTurn} ms (echo runs)`,
      `replies per turn (steps 1-4): ${botRun.repliesPerStep.join('/')}; flows ${botRun.flows} ok, ${botRun.failures.length} failed`,
      `p50/p99 per step (退订视频彩铃, number, code, 确认): tuiding ${botRun.stepLatency.map((l) => `${l.p50Ms}/${l.p99Ms}`).join(', ')} ms; echo ${echoRun.stepLatency.map((l) => `${l.p50Ms}/${l.p99Ms}`).join(', ')} ms`,
      `NLU: ${nlu.utterancesPerSec} utterances/s on one core`,
      `other processes used up to ${background} % of the machine's CPU in the runs reported${background > DISTURBED_PCT ? ' — WARNING: every run was disturbed, the figures are skewed; run again on a quiet machine' : ''}`,
      ...(profile ? profileLines(profile, botRuns[0]!.turns, echoProfile, echoRuns[0]?.turns ?? 0, replyThreadProfile) : []),
      `report: ${o.out}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    const summary = {
      turnsPerSec: botRun.turnsPerSec,
      echoTurnsPerSec: echoRun.turnsPerSec,
      ratio,
      pairRatios: pairs.map((x) => x.ratio),
      p50Ms: botRun.latency.p50Ms,
      p99Ms: botRun.latency.p99Ms,
      echoP50Ms: echoRun.latency.p50Ms,
      echoP99Ms: echoRun.latency.p99Ms,
      p99Ratio,
      p99Ms100: small?.latency.p99Ms ?? null,
      p99Ms100k: large?.latency.p99Ms ?? null,
      storedRatio,
      startupMs: botRun.readyMs,
      startupMs100k: large?.readyMs ?? null,
      echoStartupMs: echoRun.readyMs,
      rssRestMb: botRun.rssRestMb,
      rssLoadMb: botRun.rssLoadMb,
      echoRssRestMb: echoRun.rssRestMb,
      echoRssLoadMb: echoRun.rssLoadMb,
      cpuMsPerTurn: botRun.cpuMsPerTurn,
      echoCpuMsPerTurn: echoRun.cpuMsPerTurn,
      loopCpuMsPerTurn: botRun.loopCpuMsPerTurn,
      echoLoopCpuMsPerTurn: echoRun.loopCpuMsPerTurn,
      bytesPerConversation: large?.bytesPerConversation ?? report.bot.botStoreBytesPerConversation,
      nluUtterancesPerSec: nlu.utterancesPerSec,
      backgroundCpuPct: background,
      failedFlows: botRun.failures.length + echoRun.failures.length + Object.values(stored).reduce((n, s) => n + s.failures.length, 0),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (summary.failedFlows > 0) process.exitCode = 1;
  } finally {
    for (const c of [...children]) await stopChild(c.child).catch(() => undefined);
    await channel.stop();
    destroyAgents();
    if (o.keep) log(`bench: work folder kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
}

main().catch((err: unknown) => {
  log(`bench failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
