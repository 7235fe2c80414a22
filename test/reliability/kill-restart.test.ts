import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { I18n } from '../../src/i18n/i18n.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { tempDataDir } from '../support/app.js';

// The bot as a real process (src/main.ts), killed with SIGKILL at random moments while Emulator-style
// conversations cancel services, and restarted on the same DATA_DIR. Messages whose POST failed are
// sent again, as a channel does. At the end every cancellation must be filed exactly once and every
// completion reported in the chat.

const MIN_CYCLES = 8;
const MAX_CYCLES = 12;
/** A user's pause between messages (ms): it spreads the cancellations over several lives of the process. */
const THINK_MS: [number, number] = [50, 400];
/** Killing stops after this long; the remaining work then finishes with the bot left running. */
const KILL_BUDGET_MS = 50_000;
const OPS_TOKEN = 'reliability-ops-token';

interface Received {
  type: string;
  text?: string;
  replyToId?: string;
  conversation: { id: string };
  suggestedActions?: { actions: { title: string; value: string }[] };
  channelData?: { tuiding?: { state?: string } };
}

/**
 * The channel (what the Emulator runs), tolerant of a bot that dies mid-request: a torn body is
 * counted, not parsed (test/support's FakeChannel would throw on it).
 */
class CrashTolerantChannel {
  readonly received: Received[] = [];
  tornBodies = 0;
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', () => { this.tornBodies++; });
      req.on('end', () => {
        if (req.method === 'POST' && /^\/v3\/conversations\/[^/]+\/activities/.test(req.url ?? '')) {
          try {
            this.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received);
          } catch {
            this.tornBodies++;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id: randomUUID() }));
        } else {
          res.writeHead(404);
          res.end();
        }
      });
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The bot process: spawn, wait until /healthz answers, SIGKILL, restart. */
class BotProcess {
  child: ChildProcess | undefined;
  readonly output: string[] = [];
  starts = 0;
  startMs: number[] = [];

  constructor(readonly port: number, readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const t0 = Date.now();
    this.starts++;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean).map((l) => `[start ${this.starts}] ${l}`));
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited: number | null | undefined;
    child.once('exit', (code) => { exited = code; });
    for (const deadline = Date.now() + 30_000; ;) {
      if (exited !== undefined) throw new Error(`the bot exited during start-up (code ${exited}):\n${this.output.slice(-30).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`the bot did not become ready:\n${this.output.slice(-30).join('\n')}`);
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      await sleep(25);
    }
    this.startMs.push(Date.now() - t0);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await gone;
  }
}

/** What we cancel: one conversation per service, one lane (run in parallel with the others) per number. */
interface Cancellation {
  msisdn: string;
  request: string;
  service: string;
  secret?: string;
}

const LANES: Cancellation[][] = [
  [
    { msisdn: '13800138000', request: '帮我把视频彩铃退了', service: '视频彩铃' },
    { msisdn: '13800138000', request: '退订音乐会员', service: '音乐会员' },
    { msisdn: '13800138000', request: '退订10GB流量包', service: '10GB流量包' },
    { msisdn: '13800138000', request: '退订100分钟语音包', service: '100分钟语音包' },
  ],
  [
    { msisdn: '13900139000', request: '退订彩铃', service: '彩铃' },
    { msisdn: '13900139000', request: '退订视频彩铃', service: '视频彩铃' },
    { msisdn: '13900139000', request: '取消来电提醒', service: '来电提醒' },
    { msisdn: '13900139000', request: '退订手机报', service: '手机报' },
    { msisdn: '13900139000', request: '退订流量加油包', service: '流量加油包' },
  ],
  [
    { msisdn: '13700137000', request: '退订视频会员', service: '视频会员' },
    { msisdn: '13700137000', request: '退订游戏点播包', service: '游戏点播包' },
    { msisdn: '13700137000', request: '退订5G加速包', service: '5G加速包' },
  ],
  [
    { msisdn: '18612345678', request: '退订100条短信包', service: '100条短信包' },
    { msisdn: '18612345678', request: '退订夜间流量包', service: '夜间流量包' },
  ],
  [
    { msisdn: '15800158000', request: '退订10GB流量包', service: '10GB流量包' },
    { msisdn: '15800158000', request: '退订流量加油包', service: '流量加油包' },
    { msisdn: '15800158000', request: '退订云盘会员', service: '云盘会员' },
    { msisdn: '15800158000', request: '退订千兆宽带', service: '千兆光纤宽带', secret: '314159' },
  ],
];

interface OpsRequest {
  ticket: string;
  msisdn: string;
  subscriptionId: string;
  serviceName: string;
  status: string;
  idempotencyKey: string;
  effectiveAt: string;
}

interface Figures {
  cycles: number;
  killsMidTurn: number;
  failedPosts: number;
  turns: number;
  receiptsLost: number;
  dialogsRestarted: number;
  codesReRequested: number;
}

describe('the bot process killed and restarted during cancellations', () => {
  const channel = new CrashTolerantChannel();
  let bot: BotProcess;
  let cleanup: () => void;
  const i18n = new I18n();

  beforeAll(async () => {
    await channel.start();
    const data = tempDataDir();
    cleanup = data.cleanup;
    bot = new BotProcess(await freePort(), {
      PORT: '', HOST: '127.0.0.1', DATA_DIR: data.dir, LOG_LEVEL: 'warn',
      EMBEDDED_STATUS_DELAY_MS: '200', STATUS_POLL_MS: '100', CODE_RESEND_SECONDS: '0', CODE_MAX_PER_HOUR: '1000',
      OPS_TOKEN, HANDOFF_HOURS: '00:00-24:00', SHUTDOWN_GRACE_MS: '2000',
    });
    bot.env.PORT = String(bot.port);
    await bot.start();
  }, 60_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await channel.stop();
    cleanup?.();
  });

  it('files every confirmed cancellation exactly once and reports every completion', async () => {
    const figures: Figures = { cycles: 0, killsMidTurn: 0, failedPosts: 0, turns: 0, receiptsLost: 0, dialogsRestarted: 0, codesReRequested: 0 };
    let inFlight = 0;
    const failures: string[] = [];

    /** GET with retries while the bot is down. */
    async function get<T>(path: string, auth = false): Promise<T> {
      for (const deadline = Date.now() + 60_000; ;) {
        try {
          const res = await fetch(`${bot.url}${path}`, { headers: auth ? { authorization: `Bearer ${OPS_TOKEN}` } : {}, signal: AbortSignal.timeout(10_000) });
          if (res.status === 200) return (await res.json()) as T;
          if (res.status < 500) throw new Error(`GET ${path} → ${res.status}: ${await res.text()}`);
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('GET ')) throw err;
        }
        if (Date.now() > deadline) throw new Error(`GET ${path} kept failing`);
        await sleep(100);
      }
    }

    /** Posts a message until the bot accepts it (200), as a channel retries; returns the replies of the accepted attempt. */
    async function send(conversationId: string, text: string): Promise<Received[]> {
      const activity = {
        type: 'message', id: randomUUID(), text, channelId: 'emulator', serviceUrl: channel.url, locale: 'zh-CN',
        conversation: { id: conversationId }, from: { id: 'user-1', name: 'User', role: 'user' }, recipient: { id: 'bot-1', name: 'Bot', role: 'bot' },
      };
      for (const deadline = Date.now() + 90_000; ;) {
        const before = channel.received.length;
        inFlight++;
        try {
          const res = await fetch(`${bot.url}/api/messages`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...activity, timestamp: new Date().toISOString() }), signal: AbortSignal.timeout(20_000),
          });
          const body = await res.text();
          if (res.status === 200) {
            figures.turns++;
            return channel.received.slice(before).filter((a) => a.replyToId === activity.id);
          }
          if (res.status < 500) throw new Error(`the bot answered ${res.status} to "${text}": ${body}`);
          figures.failedPosts++;
        } catch (err) {
          if (err instanceof Error && err.message.startsWith('the bot answered')) throw err;
          figures.failedPosts++;
        } finally {
          inFlight--;
        }
        if (Date.now() > deadline) throw new Error(`"${text}" was never accepted`);
        await sleep(between(50, 200));
      }
    }

    async function requestsOf(msisdn: string): Promise<OpsRequest[]> {
      return (await get<{ requests: OpsRequest[] }>(`/api/requests?msisdn=${msisdn}&full=1`, true)).requests;
    }

    /** One conversation cancelling one service, driven by the state the bot reports, whatever a crash lost. */
    async function cancel(c: Cancellation): Promise<void> {
      const conversationId = `kill-${c.msisdn}-${randomUUID().slice(0, 8)}`;
      let state: string | undefined;
      let sawReceipt = false;
      let started = false;
      let lastReplies: Received[] = [];
      let lastCode: string | undefined;
      const log: string[] = [];
      for (let step = 0; step < 60; step++) {
        if (state === undefined || state === 'idle') {
          const mine = (await requestsOf(c.msisdn)).filter((r) => r.idempotencyKey.startsWith(`${conversationId}:`));
          if (mine.length > 0) {
            if (!sawReceipt) figures.receiptsLost++;
            return;
          }
          if (started) figures.dialogsRestarted++;
          started = true;
        }
        let text: string;
        switch (state) {
          case 'session.askingNumber':
            text = c.msisdn;
            break;
          case 'session.awaitingCode': {
            const { messages } = await get<{ messages: { text: string }[] }>(`/dev/sms?msisdn=${c.msisdn}`);
            const code = /\d{6}/.exec(messages[0]?.text ?? '')?.[0] ?? '000000';
            if (code === lastCode) {
              // That code was already used (a crash can consume it without saving the dialog): ask for a new one,
              // as the bot's "code expired" message says.
              figures.codesReRequested++;
              text = c.msisdn;
              lastCode = undefined;
            } else {
              text = code;
              lastCode = code;
            }
            break;
          }
          case 'session.awaitingSecret':
            text = c.secret ?? '000000';
            break;
          case 'session.awaitingChoice': {
            const actions = lastReplies.at(-1)?.suggestedActions?.actions ?? [];
            text = actions.find((a) => a.title === c.service)?.value ?? c.service;
            break;
          }
          case 'session.awaitingConfirmation':
            text = '确认';
            break;
          default:
            text = c.request;
        }
        await sleep(between(...THINK_MS));
        const replies = await send(conversationId, text);
        lastReplies = replies;
        log.push(`${text} → ${replies.map((r) => `[${r.channelData?.tuiding?.state}] ${(r.text ?? '').slice(0, 40)}`).join(' / ') || '(no reply)'}`);
        if (replies.some((r) => (r.text ?? '').includes(i18n.t('receipt.header', {}, 'zh-CN')))) sawReceipt = true;
        // No reply at all (the turn ran before a crash lost it, then the retry found nothing to say) keeps the last state.
        state = replies.at(-1)?.channelData?.tuiding?.state ?? state;
      }
      failures.push(`${conversationId} (${c.service}) did not complete; last state ${state}; last turns:\n  ${log.slice(-8).join('\n  ')}`);
    }
    const started = Date.now();
    let workDone = false;
    const work = Promise.all(LANES.map(async (lane) => {
      for (const c of lane) await cancel(c);
    })).finally(() => { workDone = true; });

    // The killer: random moments, as long as there is work or too few cycles, within the budget.
    while ((!workDone || figures.cycles < MIN_CYCLES) && figures.cycles < MAX_CYCLES && Date.now() - started < KILL_BUDGET_MS) {
      if (Math.random() < 0.5) {
        // Aim at a turn in flight: the moments between filing, saving and replying.
        for (const until = Date.now() + 1500; inFlight === 0 && Date.now() < until;) await sleep(2);
        await sleep(between(0, 40));
      } else {
        await sleep(between(80, 700));
      }
      if (inFlight > 0) figures.killsMidTurn++;
      await bot.kill('SIGKILL');
      figures.cycles++;
      await bot.start();
    }
    await work;

    // Every request completes (or is rejected) and its outcome is told in the chat; the bot keeps running now.
    const expected = LANES.flat();
    let all: OpsRequest[] = [];
    const waitUntil = Date.now() + 20_000;
    for (;;) {
      all = (await Promise.all([...new Set(expected.map((c) => c.msisdn))].map(requestsOf))).flat();
      const pending = all.filter((r) => r.status === 'submitted' || r.status === 'processing');
      const untold = all.filter((r) => r.status === 'completed' && !channel.received.some((a) => a.text === completedText(r)));
      if ((pending.length === 0 && untold.length === 0) || Date.now() > waitUntil) break;
      await sleep(200);
    }

    // Filed exactly once: one request per cancelled subscription, none for anything else.
    const bySubscription = new Map<string, OpsRequest[]>();
    for (const r of all) bySubscription.set(`${r.msisdn}/${r.subscriptionId}`, [...(bySubscription.get(`${r.msisdn}/${r.subscriptionId}`) ?? []), r]);
    const duplicated = [...bySubscription.values()].filter((list) => list.length > 1);
    const filedServices = new Set(all.map((r) => `${r.msisdn}/${r.serviceName}`));
    const lost = expected.filter((c) => !filedServices.has(`${c.msisdn}/${c.service}`));
    const unexpected = all.filter((r) => !expected.some((c) => c.msisdn === r.msisdn && c.service === r.serviceName));

    const told = all.map((r) => ({ r, times: channel.received.filter((a) => a.type === 'message' && a.text === completedText(r)).length }));
    const notificationsLost = told.filter((x) => x.r.status === 'completed' && x.times === 0);
    const notificationsDuplicated = told.filter((x) => x.times > 1);

    console.log([
      `[reliability] kill/restart: ${figures.cycles} kill/restart cycles (SIGKILL), ${figures.killsMidTurn} of them with a turn in flight; faults injected: ${figures.cycles} kills, ${figures.failedPosts} failed POSTs retried, ${channel.tornBodies} torn reply bodies`,
      `[reliability] kill/restart: ${expected.length} cancellations in ${figures.turns} accepted turns; ${figures.receiptsLost} receipts lost to a crash (request filed, found by asking), ${figures.dialogsRestarted} dialogs started over, ${figures.codesReRequested} SMS codes asked for again after a crash used one up`,
      `[reliability] kill/restart: requests filed ${all.length}, lost ${lost.length}, duplicated ${duplicated.length}, unexpected ${unexpected.length}; completion notifications lost ${notificationsLost.length}, duplicated ${notificationsDuplicated.length} (extra copies ${notificationsDuplicated.reduce((n, x) => n + x.times - 1, 0)})`,
      `[reliability] kill/restart: start-up times ${bot.startMs.join(', ')} ms`,
    ].join('\n'));

    expect(failures, failures.join('\n')).toEqual([]);
    expect(figures.cycles).toBeGreaterThanOrEqual(MIN_CYCLES);
    expect(lost.map((c) => `${c.msisdn} ${c.service}`), 'cancellations never filed').toEqual([]);
    expect(duplicated.map((l) => l.map((r) => `${r.ticket} ${r.serviceName} ${r.idempotencyKey} ${r.status}`).join(' + ')), 'subscriptions filed twice').toEqual([]);
    expect(unexpected.map((r) => `${r.ticket} ${r.serviceName}`), 'requests nobody confirmed').toEqual([]);
    expect(all.filter((r) => r.status !== 'completed').map((r) => `${r.ticket} ${r.status}`), 'requests that did not complete').toEqual([]);
    expect(notificationsLost.map((x) => `${x.r.ticket} ${x.r.serviceName}`), 'completions never told in the chat').toEqual([]);

    function completedText(r: OpsRequest): string {
      return i18n.t('notify.status.completed', { name: r.serviceName, ticket: r.ticket, effectiveAt: r.effectiveAt }, 'zh-CN');
    }
  }, 150_000);
});
