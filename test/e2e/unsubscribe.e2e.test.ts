import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { verifyAuditLog } from '../../src/store/audit-log.js';
import { EmulatorClient, FakeChannel, type ReceivedActivity } from '../support/fake-channel.js';

// The real server on a free port with no app id, spoken to as Bot Framework Emulator does.
let app: App;
let botUrl: string;
let dataDir: string;
const channel = new FakeChannel();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tuiding-e2e-'));
  await channel.start();
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent',
    EMBEDDED_STATUS_DELAY_MS: '150', STATUS_POLL_MS: '100', CODE_RESEND_SECONDS: '0', OPS_TOKEN: 'ops-secret', HANDOFF_HOURS: '00:00-24:00', UNDO_WINDOW_MINUTES: '0',
  });
  app = await createApp(config, { logger: silentLogger });
  botUrl = `http://127.0.0.1:${await app.start()}`;
});

afterAll(async () => {
  await app?.stop();
  await channel.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const t = (key: string, params?: Record<string, string | number>) => app.i18n.t(key, params, 'zh-CN');
const textOf = (replies: ReceivedActivity[]) => replies.map((r) => r.text ?? '').join('\n');

async function latestCode(msisdn: string): Promise<string> {
  const res = await fetch(`${botUrl}/dev/sms?msisdn=${msisdn}`);
  const body = (await res.json()) as { messages: { text: string }[] };
  const code = /\d{6}/.exec(body.messages[0]?.text ?? '')?.[0];
  if (!code) throw new Error('no code in the dev outbox');
  return code;
}

async function verify(client: EmulatorClient, msisdn: string): Promise<ReceivedActivity[]> {
  const asked = await client.say(msisdn);
  expect(textOf(asked)).toContain(t('identity.code.prompt', { msisdn }).slice(0, 8));
  return client.say(await latestCode(msisdn));
}

function ticketIn(replies: ReceivedActivity[]): string {
  const ticket = /TD\d{14}/.exec(textOf(replies))?.[0];
  if (!ticket) throw new Error(`no ticket in: ${textOf(replies)}`);
  return ticket;
}

/** Waits for a message that the bot sent on its own (not a reply to a user message). */
async function proactive(client: EmulatorClient, includes: string): Promise<ReceivedActivity> {
  let found: ReceivedActivity | undefined;
  await channel.waitFor(() => {
    found = client.unprompted().find((a) => (a.text ?? '').includes(includes));
    return found !== undefined;
  });
  return found!;
}

describe('the unsubscribe conversation over /api/messages', () => {
  it('greets a new conversation and tags every reply with the dialog state', async () => {
    const client = new EmulatorClient(botUrl, channel);
    const res = await client.join();
    expect(res.status).toBe(200);
    const hello = channel.messages(client.conversationId);
    expect(hello[0]?.text).toBe(t('welcome.text'));
    const replies = await client.say('帮我把视频彩铃退了');
    expect(replies.length).toBeGreaterThan(0);
    for (const r of replies) expect(r.channelData?.tuiding?.state).toBe('session.askingNumber');
  });

  it('cancels 视频彩铃 end to end and later reports completion unprompted', async () => {
    const client = new EmulatorClient(botUrl, channel);
    expect(textOf(await client.say('帮我把视频彩铃退了'))).toBe(t('identity.number.prompt'));
    const warned = await verify(client, '13800138000');
    expect(textOf(warned)).toContain('视频彩铃');
    expect(textOf(warned)).toContain(t('warn.effective.immediate'));
    expect(warned.at(-1)?.channelData?.tuiding?.state).toBe('session.awaitingConfirmation');
    expect(warned.at(-1)?.suggestedActions?.actions.map((a) => a.title)).toEqual([t('choice.confirm'), t('choice.decline')]);

    const receipt = await client.say('确认');
    const ticket = ticketIn(receipt);
    expect(receipt.at(-1)?.channelData?.tuiding?.state).toBe('idle');

    const done = await proactive(client, t('notify.status.completed', { name: '视频彩铃', ticket, effectiveAt: '' }).slice(0, 6));
    expect(done.text).toContain(ticket);
    expect(done.channelData?.tuiding?.state).toBe('idle');

    // Filing and the status changes are on the tamper-evident audit log, numbers masked.
    const auditFile = join(dataDir, 'audit.jsonl');
    await expect.poll(() => readFileSync(auditFile, 'utf8')).toContain(`"type":"request.status","ticket":"${ticket}","status":"completed"`);
    const audit = readFileSync(auditFile, 'utf8');
    expect(audit).toContain(`"type":"request.filed","ticket":"${ticket}"`);
    expect(audit).not.toContain('13800138000');
    expect(verifyAuditLog(join(dataDir, 'audit.jsonl'))).toMatchObject({ ok: true });

    const status = await client.say('我的退订办好了吗');
    expect(textOf(status)).toContain(ticket);
    expect(textOf(status)).toContain('已成功退订');
  });

  it('lets the user pick one of several data add-ons by number', async () => {
    const client = new EmulatorClient(botUrl, channel);
    await client.say('流量包怎么取消');
    const list = await verify(client, '15800158000');
    expect(list.at(-1)?.channelData?.tuiding?.state).toBe('session.awaitingChoice');
    const options = list.at(-1)?.suggestedActions?.actions ?? [];
    expect(options.length).toBeGreaterThanOrEqual(3);
    const first = options[0]!.title;
    const warned = await client.say('第一个');
    expect(textOf(warned)).toContain(first);
    const receipt = await client.say('确认');
    const ticket = ticketIn(receipt);
    await proactive(client, ticket);
    const requests = await app.backend.listRequests({ msisdn: '15800158000' });
    expect(requests.filter((r) => r.ticket === ticket)).toHaveLength(1);
  });

  it('closes a number only after the service password and the explicit phrase', async () => {
    const client = new EmulatorClient(botUrl, channel);
    await client.say('我要销号');
    const secret = await verify(client, '18612345678');
    expect(textOf(secret)).toBe(t('identity.secret.promptNumber'));
    const warned = await client.say('975310');
    const warning = textOf(warned);
    expect(warning).toContain(t('warn.number.reissue'));
    expect(warning).toContain(t('warn.number.alternatives'));
    expect(warning).toContain(t('warn.number.balance', { amountFen: 8800 }));
    const plain = await client.say('确认');
    expect(textOf(plain)).toBe(t('confirm.number.needPhrase'));
    expect(await app.backend.listRequests({ msisdn: '18612345678' })).toHaveLength(0);
    const receipt = await client.say('确认销号');
    const ticket = ticketIn(receipt);
    await proactive(client, ticket);
  });

  it('tells the user when closing a number that owes money is rejected', async () => {
    const client = new EmulatorClient(botUrl, channel);
    await client.say('这个号不用了，我要注销');
    await verify(client, '13700137000');
    const warned = await client.say('864200');
    expect(textOf(warned)).toContain(t('warn.number.arrears', { amountFen: 4850 }));
    const ticket = ticketIn(await client.say('确认销号'));
    const rejected = await proactive(client, t('status.reason.arrears'));
    expect(rejected.text).toContain(ticket);
  });

  it('files nothing when the user declines at the confirmation', async () => {
    const client = new EmulatorClient(botUrl, channel);
    await client.say('取消来电提醒');
    await verify(client, '13900139000');
    const declined = await client.say('不退了');
    expect(textOf(declined)).toBe(t('confirm.declined'));
    expect(declined.at(-1)?.channelData?.tuiding?.state).toBe('idle');
    expect(await app.backend.listRequests({ msisdn: '13900139000' })).toHaveLength(0);
  });

  it('answers malformed activities with 400 instead of a server error', async () => {
    for (const body of ['{}', '[]', '{"type":"message"}', '"text"']) {
      const res = await fetch(`${botUrl}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status, body).toBe(400);
    }
    const health = await fetch(`${botUrl}/healthz`);
    expect(health.status).toBe(200);
  });

  it('serves the requests API only with the ops token, numbers masked unless asked', async () => {
    expect((await fetch(`${botUrl}/api/requests`)).status).toBe(401);
    const auth = { authorization: 'Bearer ops-secret' };
    const res = await fetch(`${botUrl}/api/requests?msisdn=13800138000`, { headers: auth });
    expect(res.status).toBe(200);
    const { requests } = (await res.json()) as { requests: { ticket: string; msisdn: string }[] };
    expect(requests.length).toBeGreaterThan(0);
    expect(requests[0]!.msisdn).toBe('138****8000');
    const one = await fetch(`${botUrl}/api/requests/${requests[0]!.ticket}?full=1`, { headers: auth });
    expect(((await one.json()) as { msisdn: string }).msisdn).toBe('13800138000');
    expect((await fetch(`${botUrl}/api/requests/TD00000000000000`, { headers: auth })).status).toBe(404);

    // The code printed on the receipt checks out against the record; another code does not.
    const { receiptCode } = (await (await fetch(`${botUrl}/api/requests/${requests[0]!.ticket}`, { headers: auth })).json()) as { receiptCode: string };
    expect(receiptCode).toMatch(/^[A-Z2-9]{10}$/);
    expect(channel.received.some((a) => (a.text ?? '').includes(requests[0]!.ticket) && (a.text ?? '').includes(receiptCode))).toBe(true);
    const ok = (await (await fetch(`${botUrl}/api/requests/${requests[0]!.ticket}/verify?code=${receiptCode}`, { headers: auth })).json()) as { valid: boolean };
    expect(ok.valid).toBe(true);
    const forged = receiptCode.startsWith('A') ? `B${receiptCode.slice(1)}` : `A${receiptCode.slice(1)}`;
    const bad = (await (await fetch(`${botUrl}/api/requests/${requests[0]!.ticket}/verify?code=${forged}`, { headers: auth })).json()) as { valid: boolean };
    expect(bad.valid).toBe(false);
  });

  it('exposes Prometheus metrics with the ops token: turns, intents, filings, handoffs, no personal data', async () => {
    expect((await fetch(`${botUrl}/metrics`)).status).toBe(401);
    const scrape = async () => {
      const res = await fetch(`${botUrl}/metrics`, { headers: { authorization: 'Bearer ops-secret' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };
    const value = (body: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(body)?.[1] ?? 0);
    const before = await scrape();
    const client = new EmulatorClient(botUrl, channel);
    await client.say('转人工');
    const after = await scrape();
    expect(value(after, 'tuiding_turns_total{outcome="answered"}')).toBe(value(before, 'tuiding_turns_total{outcome="answered"}') + 1);
    expect(value(after, 'tuiding_intents_total{intent="human_agent"}')).toBe(value(before, 'tuiding_intents_total{intent="human_agent"}') + 1);
    expect(value(after, 'tuiding_handoffs_total{reason="user"}')).toBe(value(before, 'tuiding_handoffs_total{reason="user"}') + 1);
    expect(value(after, 'tuiding_handoff_open{state="waiting"}')).toBeGreaterThan(0);
    // The cancellations earlier in this file were filed and counted by kind.
    expect(value(after, 'tuiding_filings_total{target="vas",outcome="filed"}')).toBeGreaterThan(0);
    expect(after).toMatch(/^tuiding_turn_duration_seconds_bucket\{/m);
    expect(after).toMatch(/^process_cpu_user_seconds_total /m);
    // Counts only: no number, code or ticket of anyone.
    for (const msisdn of ['13800138000', '13900139000', '13700137000']) expect(after).not.toContain(msisdn);
    expect(after).not.toMatch(/TD\d{14}/);
  });
});
