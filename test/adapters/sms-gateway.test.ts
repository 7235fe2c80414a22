import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedSmsGateway, KEEP_PER_NUMBER } from '../../src/adapters/embedded-sms-gateway.js';
import { HttpSmsGateway, type HttpSmsGatewayOptions } from '../../src/adapters/http-sms-gateway.js';
import type { Logger } from '../../src/log.js';
import { describeSmsGatewayContract, type SmsGatewayHarness } from './sms-gateway.contract.js';
import { FakeHttpServer } from './fake-http.js';

async function embeddedHarness(): Promise<SmsGatewayHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tuiding-sms-'));
  const gateway = new EmbeddedSmsGateway({ file: join(dir, 'sms.json') });
  return {
    gateway,
    async delivered(msisdn) {
      return (await gateway.list(msisdn)).reverse().map((m) => ({ msisdn: m.msisdn, text: m.text }));
    },
    async dispose() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fake SMS gateway: accepts POST { msisdn, text } and answers { id }. */
async function fakeSmsServer(): Promise<FakeHttpServer> {
  let n = 0;
  return FakeHttpServer.start(async () => ({ status: 202, body: { id: `gw-${++n}` } }));
}

function delivered(server: FakeHttpServer, msisdn: string): Array<{ msisdn: string; text: string }> {
  // A retried message carries the same Idempotency-Key; a real gateway sends it once.
  const seen = new Set<string>();
  const out: Array<{ msisdn: string; text: string }> = [];
  for (const call of server.calls) {
    const key = String(call.headers['idempotency-key']);
    const body = call.body as { msisdn: string; text: string };
    if (seen.has(key) || body.msisdn !== msisdn) continue;
    seen.add(key);
    out.push({ msisdn: body.msisdn, text: body.text });
  }
  return out;
}

async function httpHarness(): Promise<SmsGatewayHarness> {
  const server = await fakeSmsServer();
  const gateway = new HttpSmsGateway({ url: `${server.url}/sms`, timeoutMs: 1000, retries: 2, backoffMs: 5 });
  return {
    gateway,
    delivered: async (msisdn) => delivered(server, msisdn),
    async dispose() {
      await gateway.close();
      await server.close();
    },
  };
}

describeSmsGatewayContract('EmbeddedSmsGateway', embeddedHarness);
describeSmsGatewayContract('HttpSmsGateway', httpHarness);

/** Keeps what the adapter handed to the logger, before any masking. */
function recordingLogger(lines: string[]): Logger {
  const log = (msg: string, fields?: Record<string, unknown>): void => {
    lines.push(`${msg} ${JSON.stringify(fields ?? {})}`);
  };
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

describe('EmbeddedSmsGateway outbox', () => {
  let dir: string;
  let gateway: EmbeddedSmsGateway;
  const lines: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tuiding-sms-outbox-'));
    lines.length = 0;
    gateway = new EmbeddedSmsGateway({ file: join(dir, 'sms.json'), logger: recordingLogger(lines) });
  });

  afterEach(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists a number\'s messages newest first, up to a limit', async () => {
    await gateway.send('13800138000', 'one');
    await gateway.send('13800138000', 'two');
    await gateway.send('13800138000', 'three');
    expect((await gateway.list('13800138000')).map((m) => m.text)).toEqual(['three', 'two', 'one']);
    expect((await gateway.list('13800138000', 2)).map((m) => m.text)).toEqual(['three', 'two']);
    expect(await gateway.list('13900139000')).toEqual([]);
  });

  it(`keeps only the last ${KEEP_PER_NUMBER} messages of a number`, async () => {
    for (let i = 1; i <= KEEP_PER_NUMBER + 5; i++) await gateway.send('13800138000', `m${i}`);
    const kept = await gateway.list('13800138000', 1000);
    expect(kept).toHaveLength(KEEP_PER_NUMBER);
    expect(kept[0]?.text).toBe(`m${KEEP_PER_NUMBER + 5}`);
    expect(kept.at(-1)?.text).toBe('m6');
  });

  it('keeps the outbox across a restart', async () => {
    await gateway.send('13800138000', 'before restart');
    await gateway.close();
    gateway = new EmbeddedSmsGateway({ file: join(dir, 'sms.json') });
    expect((await gateway.list('13800138000')).map((m) => m.text)).toEqual(['before restart']);
  });

  it('logs one line with the masked number and where to read it, never the number, text or code', async () => {
    await gateway.send('13800138000', '您的验证码为 482913');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('138****8000');
    expect(lines[0]).toContain('GET /dev/sms?msisdn=');
    expect(lines[0]).not.toContain('13800138000');
    expect(lines[0]).not.toContain('482913');
    expect(lines[0]).not.toContain('验证码');
  });

  it('refuses to send after close with sms.unavailable', async () => {
    await gateway.close();
    await expect(gateway.send('13800138000', 'late')).rejects.toMatchObject({ code: 'sms.unavailable' });
  });
});

describe('HttpSmsGateway transport', () => {
  let server: FakeHttpServer;
  const lines: string[] = [];

  function gateway(options: Partial<HttpSmsGatewayOptions> = {}): HttpSmsGateway {
    return new HttpSmsGateway({ url: `${server.url}/sms`, timeoutMs: 500, retries: 2, backoffMs: 5, logger: recordingLogger(lines), ...options });
  }

  beforeEach(async () => {
    lines.length = 0;
    server = await fakeSmsServer();
  });

  afterEach(async () => {
    await server.close();
  });

  it('posts the number and text as JSON with the api key', async () => {
    const message = await gateway({ apiKey: 'sms-key' }).send('13800138000', '您的验证码为 482913');
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0]?.body).toEqual({ msisdn: '13800138000', text: '您的验证码为 482913' });
    expect(server.calls[0]?.headers.authorization).toBe('Bearer sms-key');
    expect(message.id).toBe('gw-1');
  });

  it('retries a 503 with the same idempotency key', async () => {
    server.inject({ kind: 'status', status: 503 });
    await gateway().send('13800138000', 'hello');
    expect(server.calls).toHaveLength(2);
    const keys = server.calls.map((c) => c.headers['idempotency-key']);
    expect(keys[0]).toEqual(expect.any(String));
    expect(keys[1]).toBe(keys[0]);
  });

  it('fails with sms.unavailable once 5xx outlasts the retries', async () => {
    server.inject({ kind: 'status', status: 500 }, { kind: 'status', status: 502 }, { kind: 'status', status: 503 });
    await expect(gateway().send('13800138000', 'hello')).rejects.toMatchObject({ code: 'sms.unavailable' });
    expect(server.calls).toHaveLength(3);
  });

  it('fails with sms.unavailable on a 4xx without retrying', async () => {
    server.inject({ kind: 'status', status: 400 });
    await expect(gateway().send('13800138000', 'hello')).rejects.toMatchObject({ code: 'sms.unavailable' });
    expect(server.calls).toHaveLength(1);
  });

  it('fails with sms.unavailable when the gateway is too slow', async () => {
    server.inject({ kind: 'delay', ms: 400 });
    await expect(gateway({ timeoutMs: 50, retries: 0 }).send('13800138000', 'hello')).rejects.toMatchObject({ code: 'sms.unavailable' });
  });

  it('fails with sms.unavailable when nothing listens', async () => {
    const dead = new HttpSmsGateway({ url: 'http://127.0.0.1:1/sms', timeoutMs: 200, retries: 1, backoffMs: 1 });
    await expect(dead.send('13800138000', 'hello')).rejects.toMatchObject({ code: 'sms.unavailable' });
  });

  it('never logs the number unmasked or the text', async () => {
    server.inject({ kind: 'status', status: 503 });
    await gateway().send('13800138000', '您的验证码为 482913');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain('13800138000');
      expect(line).not.toContain('482913');
    }
  });
});
