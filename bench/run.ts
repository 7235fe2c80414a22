/**
 * `npm run bench`: Tuiding against a bare echo bot on the same stack, over real HTTP on 127.0.0.1.
 *
 *   node dist/bench/run.js [--conversations 50] [--rounds 10] [--warmup-rounds 1]
 *                          [--stored-rounds 6] [--stored-small 100] [--stored-large 100000]
 *                          [--skip-stored] [--profile] [--out bench/results/latest.json]
 *
 * Phases (each bot is a separate child process; this process is the load generator and the
 * channel that receives replies, as Bot Framework Emulator is):
 *   1. NLU utterances per second on one core (createNlu, in this process, before any load).
 *   2. The echo bot (bench/echo-bot.ts): start-up, RSS, `conversations` concurrent conversations
 *      × `rounds` cancellation flows of 4 turns each.
 *   3. Tuiding (dist/src/main.js) on a fresh DATA_DIR with its own subscribers (EMBEDDED_SEED_FILE),
 *      the same load: 退订视频彩铃 → number → code from GET /dev/sms → 确认, every reply checked.
 *   4. Tuiding with `stored-small` and `stored-large` conversations already stored (written
 *      through LowdbBotStore before start): start-up and turn latency.
 * Prints a report, writes it as JSON, and ends with one line of JSON (the summary).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalogue } from '../src/domain/catalogue.js';
import { createNlu } from '../src/nlu/index.js';
import { loadCorpus } from '../src/nlu/corpus.js';
import { DATA_ASSETS_DIR, PROJECT_ROOT } from '../src/paths.js';
import { LowdbBotStore } from '../src/store/lowdb-bot-store.js';
import type { ConversationRecord } from '../src/store/stores.js';
import { BenchChannel } from './lib/channel.js';
import { cpuMs, freePort, rssBytes, sampleRss, startChild, stopChild, type Started } from './lib/child.js';
import { runFlows, STEPS, type FlowResult } from './lib/driver.js';
import { destroyAgents } from './lib/http.js';
import { summariseProfile, type ProfileSummary } from './lib/profile.js';
import { round, summarise, type LatencySummary } from './lib/stats.js';

interface Options {
  conversations: number;
  rounds: number;
  warmupRounds: number;
  storedRounds: number;
  storedSmall: number;
  storedLarge: number;
  skipStored: boolean;
  profile: boolean;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    conversations: 50, rounds: 10, warmupRounds: 1, storedRounds: 6, storedSmall: 100, storedLarge: 100_000,
    skipStored: false, profile: false, out: join(PROJECT_ROOT, 'bench', 'results', 'latest.json'),
  };
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} needs a whole number from ${min} to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--conversations': o.conversations = int('conversations', value(), 1, 500); break;
      case '--rounds': o.rounds = int('rounds', value(), 1, 200); break;
      case '--warmup-rounds': o.warmupRounds = int('warmup-rounds', value(), 0, 20); break;
      case '--stored-rounds': o.storedRounds = int('stored-rounds', value(), 1, 200); break;
      case '--stored-small': o.storedSmall = int('stored-small', value(), 0, 1_000_000); break;
      case '--stored-large': o.storedLarge = int('stored-large', value(), 0, 1_000_000); break;
      case '--skip-stored': o.skipStored = true; break;
      case '--profile': o.profile = true; break;
      case '--out': o.out = String(value()); break;
      case '--help':
        process.stdout.write(`${readUsage()}\n`);
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${a} (try --help)`);
    }
  }
  return o;
}

function readUsage(): string {
  return 'node dist/bench/run.js [--conversations 50] [--rounds 10] [--warmup-rounds 1] [--stored-rounds 6] [--stored-small 100] [--stored-large 100000] [--skip-stored] [--profile] [--out file]';
}

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_JS = join(DIST, 'src', 'main.js');
const ECHO_JS = join(DIST, 'bench', 'echo-bot.js');
/** Whole run budget: the bench stops by itself (children included) if something hangs. */
const WATCHDOG_MS = 10 * 60_000;
const MB = 1024 * 1024;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Subscriber numbers for the bench (199 + 8 digits), one per flow, none of them a demo number. */
function numberOf(index: number): string {
  return `199${String(index).padStart(8, '0')}`;
}

/** A seed file in the shape of data/demo-subscribers.json: each number has what 13800138000 has. */
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
    // Set (empty) so that a .env in the project cannot turn authentication on for the bench.
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
  rssRestMb: number;
  rssLoadMb: number;
  readyMs: number;
  /** CPU the target process used per turn during the measured run (all its threads), ms. */
  cpuMsPerTurn: number;
  /** CPU this process (load generator and channel) used per turn, ms. */
  driverCpuMsPerTurn: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/** Warm-up (unmeasured), then the measured run with RSS sampled. */
async function measure(target: Started, kind: 'bot' | 'echo', channel: BenchChannel, o: Options, label: string, rounds: number,
  firstNumber: number, repliesPerStep?: number[], onRun?: (phase: 'start' | 'end') => void): Promise<Measured> {
  const pid = target.child.pid!;
  await new Promise((r) => setTimeout(r, 300));
  const rssRest = rssBytes(pid);
  const perRound = o.conversations;
  if (o.warmupRounds > 0) {
    const warm = await runFlows({
      kind, botUrl: target.url, channel, conversations: o.conversations, rounds: o.warmupRounds, label: `${label}-warm`, repliesPerStep,
      numberOf: (w, r) => numberOf(firstNumber + r * perRound + w),
    });
    if (warm.failures.length > 0) throw new Error(`warm-up failed:\n${warm.failures.slice(0, 5).join('\n')}\n${target.stderr()}`);
  }
  const base = firstNumber + o.warmupRounds * perRound;
  const rss = sampleRss(pid);
  const cpu0 = cpuMs(pid);
  const self0 = process.cpuUsage();
  onRun?.('start');
  const r: FlowResult = await runFlows({
    kind, botUrl: target.url, channel, conversations: o.conversations, rounds, label, repliesPerStep,
    numberOf: (w, rr) => numberOf(base + rr * perRound + w),
  });
  onRun?.('end');
  const cpu = cpuMs(pid) - cpu0;
  const self = process.cpuUsage(self0);
  const rssLoad = rss.stop();
  return {
    turnsPerSec: round(r.turns / (r.elapsedMs / 1000), 1),
    latency: summarise(r.latencies),
    flows: r.flows,
    turns: r.turns,
    failures: r.failures,
    elapsedMs: round(r.elapsedMs, 0),
    repliesPerStep: r.repliesPerStep.map(median),
    rssRestMb: round(rssRest / MB, 1),
    rssLoadMb: round(rssLoad / MB, 1),
    readyMs: round(target.readyMs, 0),
    cpuMsPerTurn: round(cpu / Math.max(1, r.turns), 3),
    driverCpuMsPerTurn: round((self.user + self.system) / 1000 / Math.max(1, r.turns), 3),
  };
}

/** NLU parses per second on one core, over corpus utterances and the bench's own. */
function measureNlu(): { utterancesPerSec: number; utterances: number; buildMs: number } {
  const catalogue = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'));
  const t0 = performance.now();
  const nlu = createNlu(catalogue);
  const buildMs = performance.now() - t0;
  const texts = [...loadCorpus().map((e) => e.text), '退订视频彩铃', '13800138000', '123456', '确认', '不退了', '第二个'];
  for (let i = 0; i < 500; i++) nlu.parse(texts[i % texts.length]!);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 2000) {
    for (let i = 0; i < 200; i++) nlu.parse(texts[(n + i) % texts.length]!);
    n += 200;
  }
  return { utterancesPerSec: round(n / ((performance.now() - start) / 1000), 0), utterances: texts.length, buildMs: round(buildMs, 0) };
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
        const reference = { ...(t.reference as Record<string, unknown>), conversation: { id } };
        puts.push(store.putConversation({ ...t, id, reference }));
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

  const flowsPerBot = o.conversations * (o.warmupRounds + Math.max(o.rounds, o.storedRounds)) + 1;
  const seedFile = join(work, 'subscribers.json');
  writeSeed(seedFile, flowsPerBot);

  const spawn = async (args: string[], env: Record<string, string>, port: number): Promise<Started> => {
    const s = await startChild(args, env, port);
    children.push(s);
    return s;
  };
  const stop = async (s: Started) => {
    await stopChild(s.child);
    children.splice(children.indexOf(s), 1);
  };

  try {
    log(`bench: ${o.conversations} concurrent conversations × ${o.rounds} cancellations (${STEPS.length} turns each), warm-up ${o.warmupRounds} round(s); work folder ${work}`);

    // 1. NLU, before any other load.
    const nlu = measureNlu();
    log(`nlu: ${nlu.utterancesPerSec} utterances/s on one core (${nlu.utterances} distinct utterances; built in ${nlu.buildMs} ms)`);

    // 2. The bot first, so that the echo bot can answer with the same number of replies per step.
    const mainDir = join(work, 'data-main');
    mkdirSync(mainDir);
    const profileDir = join(work, 'profile');
    const botPort = await freePort();
    const bot = await spawn([...(o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), MAIN_JS], botEnv(botPort, mainDir, seedFile), botPort);
    let window = { from: 0, to: 0 };
    const nowUs = () => Number(process.hrtime.bigint() / 1000n);
    // One conversation left before the confirmation, so that a half-way dialog can be seeded later.
    const probe = await runFlows({
      kind: 'bot', botUrl: bot.url, channel, conversations: 1, rounds: 1, label: 'probe', stopAfterStep: 3,
      numberOf: () => numberOf(flowsPerBot - 1),
    });
    if (probe.failures.length > 0) throw new Error(`probe conversation failed: ${probe.failures[0]}\n${bot.stderr()}`);
    const botRun = await measure(bot, 'bot', channel, o, 'main', o.rounds, 0, undefined, (phase) => {
      if (phase === 'start') window.from = nowUs();
      else window.to = nowUs();
    });
    const botPid = bot.child.pid!;
    await stop(bot);
    log(`bot: ${botRun.turnsPerSec} turns/s, p50 ${botRun.latency.p50Ms} ms, p99 ${botRun.latency.p99Ms} ms, ${botRun.failures.length} failed flows (pid ${botPid})`);
    if (botRun.failures.length > 0) log(botRun.failures.slice(0, 5).join('\n'));
    const conversationsStored = o.conversations * (o.warmupRounds + o.rounds) + 1;
    const mainBytes = dirBytes(mainDir);
    const botStoreBytes = dirBytes(join(mainDir, 'bot'));
    let profile: ProfileSummary | undefined;
    if (o.profile) profile = summariseProfile(profileDir, window.from, window.to);

    // 3. The echo bot, same load and turn shape.
    const echoPort = await freePort();
    const echo = await spawn([ECHO_JS], { PATH: process.env.PATH ?? '', PORT: String(echoPort), HOST: '127.0.0.1' }, echoPort);
    const echoRun = await measure(echo, 'echo', channel, o, 'echo', o.rounds, 0, botRun.repliesPerStep);
    await stop(echo);
    log(`echo: ${echoRun.turnsPerSec} turns/s, p50 ${echoRun.latency.p50Ms} ms, p99 ${echoRun.latency.p99Ms} ms, replies per step ${echoRun.repliesPerStep.join('/')}`);

    // 4. Latency and start-up with many conversations already stored.
    const stored: Record<string, { conversations: number; seedMs: number; readyMs: number; rssRestMb: number; turnsPerSec: number; latency: LatencySummary; storeBytes: number; bytesPerConversation: number; failures: number }> = {};
    if (!o.skipStored) {
      const templates = await readTemplates(mainDir, ['main-w0-r0', 'probe-w0-r0']);
      for (const count of [o.storedSmall, o.storedLarge]) {
        const dir = join(work, `data-${count}`);
        mkdirSync(dir);
        const seedMs = await seedConversations(dir, count, templates);
        const storeBytes = dirBytes(join(dir, 'bot', 'conversations'));
        const port = await freePort();
        const b = await spawn([MAIN_JS], botEnv(port, dir, seedFile), port);
        const run = await measure(b, 'bot', channel, o, `stored${count}`, o.storedRounds, 0);
        await stop(b);
        stored[String(count)] = {
          conversations: count, seedMs: round(seedMs, 0), readyMs: run.readyMs, rssRestMb: run.rssRestMb, turnsPerSec: run.turnsPerSec,
          latency: run.latency, storeBytes, bytesPerConversation: count > 0 ? Math.round(storeBytes / count) : 0, failures: run.failures.length,
        };
        log(`stored ${count}: seeded in ${round(seedMs, 0)} ms, ready in ${run.readyMs} ms, RSS ${run.rssRestMb} MB, ${run.turnsPerSec} turns/s, p50 ${run.latency.p50Ms} ms, p99 ${run.latency.p99Ms} ms`);
        rmSync(dir, { recursive: true, force: true });
      }
    }

    const small = stored[String(o.storedSmall)];
    const large = stored[String(o.storedLarge)];
    const ratio = round(botRun.turnsPerSec / echoRun.turnsPerSec, 3);
    const p99Ratio = round(botRun.latency.p99Ms / echoRun.latency.p99Ms, 3);
    const storedRatio = small && large ? round(large.latency.p99Ms / small.latency.p99Ms, 3) : null;
    const storedP50Ratio = small && large ? round(large.latency.p50Ms / small.latency.p50Ms, 3) : null;
    const report = {
      at: new Date().toISOString(),
      machine: { node: process.version, cpus: (await import('node:os')).cpus().length, platform: `${process.platform} ${process.arch}` },
      options: o,
      nlu,
      bot: { ...botRun, failures: botRun.failures.slice(0, 20), dataDirBytes: mainBytes, botStoreBytes, conversationsStored,
        dataDirBytesPerConversation: Math.round(mainBytes / conversationsStored), botStoreBytesPerConversation: Math.round(botStoreBytes / conversationsStored) },
      echo: { ...echoRun, failures: echoRun.failures.slice(0, 20) },
      stored,
      profile,
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

    const row = (name: string, m: { turnsPerSec: number; latency: LatencySummary }) =>
      `${name.padEnd(24)} ${String(m.turnsPerSec).padStart(8)} ${String(m.latency.p50Ms).padStart(8)} ${String(m.latency.p95Ms).padStart(8)} ${String(m.latency.p99Ms).padStart(8)} ${String(m.latency.maxMs).padStart(8)}`;
    const lines = [
      '',
      `${'run'.padEnd(24)} ${'turns/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`,
      row('echo bot', echoRun),
      row('tuiding', botRun),
      ...(small ? [row(`tuiding, ${small.conversations} stored`, small)] : []),
      ...(large ? [row(`tuiding, ${large.conversations} stored`, large)] : []),
      '',
      `throughput ratio ${ratio} (target ≥ 0.8)   p99 ratio ${p99Ratio} (target ≤ 1.25)   p99 ${o.storedLarge}/${o.storedSmall} stored ${storedRatio ?? '-'} (target ≤ 1.5)`,
      `start-up to /healthz: tuiding ${botRun.readyMs} ms${large ? `, with ${large.conversations} stored ${large.readyMs} ms` : ''}, echo ${echoRun.readyMs} ms (target < 2000 ms)`,
      `RSS at rest / under load: tuiding ${botRun.rssRestMb} / ${botRun.rssLoadMb} MB${large ? ` (${large.rssRestMb} MB at rest with ${large.conversations} stored)` : ''}, echo ${echoRun.rssRestMb} / ${echoRun.rssLoadMb} MB`,
      `stored bytes per conversation: ${large ? `${large.bytesPerConversation} B (${large.conversations} seeded, live records only); ` : ''}after the run ${report.bot.botStoreBytesPerConversation} B in the bot store, ${report.bot.dataDirBytesPerConversation} B in all of DATA_DIR (superseded lines not yet compacted, operator and SMS files)`,
      `CPU per turn: tuiding ${botRun.cpuMsPerTurn} ms, echo ${echoRun.cpuMsPerTurn} ms (load generator and channel: ${botRun.driverCpuMsPerTurn} / ${echoRun.driverCpuMsPerTurn} ms)`,
      `replies per turn (steps 1-4): ${botRun.repliesPerStep.join('/')}; flows ${botRun.flows} ok, ${botRun.failures.length} failed`,
      `NLU: ${nlu.utterancesPerSec} utterances/s on one core`,
      ...(profile ? ['', `bot CPU during the measured run: ${profile.busyMs} ms busy`, ...profile.areas.slice(0, 14).map((a) => `  ${a.area.padEnd(40)} ${String(a.ms).padStart(8)} ms ${String(a.share).padStart(5)} %`),
        'top functions (self time):', ...profile.top.slice(0, 12).map((f) => `  ${String(f.share).padStart(5)} %  ${f.fn}`)] : []),
      `report: ${o.out}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    const summary = {
      turnsPerSec: botRun.turnsPerSec,
      echoTurnsPerSec: echoRun.turnsPerSec,
      ratio,
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
      bytesPerConversation: large?.bytesPerConversation ?? report.bot.botStoreBytesPerConversation,
      nluUtterancesPerSec: nlu.utterancesPerSec,
      failedFlows: botRun.failures.length + echoRun.failures.length + Object.values(stored).reduce((n, s) => n + s.failures, 0),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (summary.failedFlows > 0) process.exitCode = 1;
  } finally {
    for (const c of [...children]) await stopChild(c.child).catch(() => undefined);
    await channel.stop();
    destroyAgents();
    rmSync(work, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
}

main().catch((err: unknown) => {
  log(`bench failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
