import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedOperatorBackend } from '../../src/adapters/embedded-operator-backend.js';
import { HttpOperatorBackend, type HttpOperatorBackendOptions } from '../../src/adapters/http-operator-backend.js';
import type { OperatorBackend } from '../../src/adapters/operator-backend.js';
import { loadCatalogue } from '../../src/domain/catalogue.js';
import { DATA_ASSETS_DIR } from '../../src/paths.js';
import {
  describeOperatorBackendContract,
  FAST_STEPS,
  type HarnessOptions,
  type OperatorBackendHarness,
} from './operator-backend.contract.js';
import { FakeOperatorServer } from './fake-operator-server.js';

const catalogue = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'));
const seedFile = join(DATA_ASSETS_DIR, 'demo-subscribers.json');

function embedded(file: string, statusDelayMs = FAST_STEPS.statusDelayMs): EmbeddedOperatorBackend {
  return new EmbeddedOperatorBackend({ file, catalogue, seedFile, statusDelayMs, tickMs: 10 });
}

async function embeddedHarness({ statusDelayMs }: HarnessOptions): Promise<OperatorBackendHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tuiding-operator-'));
  const file = join(dir, 'operator.json');
  const harness: OperatorBackendHarness = {
    backend: embedded(file, statusDelayMs),
    async restart() {
      await harness.backend.close();
      harness.backend = embedded(file, statusDelayMs);
      return harness.backend;
    },
    async dispose() {
      await harness.backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

interface HttpSetup {
  harness: OperatorBackendHarness;
  server: FakeOperatorServer;
  http: () => HttpOperatorBackend;
}

/**
 * The HTTP adapter against a fake operator server that is itself an EmbeddedOperatorBackend.
 * The operator's status webhook is simulated by handing each change, as JSON, to receiveStatusEvent.
 */
async function httpSetup(
  options: Partial<HttpOperatorBackendOptions> = {},
  apiKey?: string,
  statusDelayMs = FAST_STEPS.statusDelayMs,
): Promise<HttpSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'tuiding-operator-http-'));
  const file = join(dir, 'operator.json');
  let operator = embedded(file, statusDelayMs);
  await operator.start();
  const server = await FakeOperatorServer.start(operator, apiKey);
  const makeClient = (): HttpOperatorBackend =>
    new HttpOperatorBackend({ baseUrl: server.url, timeoutMs: 1000, retries: 2, backoffMs: 5, apiKey, ...options });
  let client = makeClient();
  const wire = (): void => {
    operator.onStatusChange((r) => client.receiveStatusEvent(JSON.parse(JSON.stringify(r))));
  };
  wire();
  const harness: OperatorBackendHarness = {
    backend: client,
    async restart() {
      await client.close();
      await operator.close();
      operator = embedded(file, statusDelayMs);
      await operator.start();
      server.backend = operator;
      client = makeClient();
      wire();
      harness.backend = client;
      return client;
    },
    async dispose() {
      await client.close();
      await server.close();
      await operator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return { harness, server, http: () => client };
}

describeOperatorBackendContract('EmbeddedOperatorBackend', embeddedHarness);
describeOperatorBackendContract('HttpOperatorBackend', async ({ statusDelayMs }) => (await httpSetup({}, undefined, statusDelayMs)).harness);

describe('HttpOperatorBackend transport', () => {
  let setup: HttpSetup;
  let backend: HttpOperatorBackend;

  async function use(options: Partial<HttpOperatorBackendOptions> = {}, apiKey?: string): Promise<void> {
    setup = await httpSetup(options, apiKey);
    backend = setup.http();
  }

  afterEach(async () => {
    await setup.harness.dispose();
  });

  it('retries a filing answered with 503 and sends the same idempotency key every time', async () => {
    await use();
    setup.server.http.inject(
      { kind: 'status', status: 503, route: 'POST /unsubscriptions' },
      { kind: 'status', status: 503, route: 'POST /unsubscriptions' },
    );
    const request = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId: 'sub-101', idempotencyKey: 'k-503' });
    const calls = setup.server.http.callsTo('POST /unsubscriptions');
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => c.headers['idempotency-key'])).toEqual(['k-503', 'k-503', 'k-503']);
    expect(request.idempotencyKey).toBe('k-503');
  });

  it('files once when the operator filed but its answer was lost', async () => {
    await use();
    setup.server.http.inject({ kind: 'afterHandling', status: 502, route: 'POST /unsubscriptions' });
    const request = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId: 'sub-101', idempotencyKey: 'k-lost' });
    expect(setup.server.http.callsTo('POST /unsubscriptions')).toHaveLength(2);
    expect((await backend.listRequests({ msisdn: '13800138000' })).map((r) => r.ticket)).toEqual([request.ticket]);
  });

  it('gives up with backend.unavailable when 5xx outlasts the retries', async () => {
    await use({ retries: 1 });
    setup.server.http.inject({ kind: 'status', status: 500 }, { kind: 'status', status: 503 });
    await expect(backend.getSubscriber('13800138000')).rejects.toMatchObject({ code: 'backend.unavailable' });
    expect(setup.server.http.calls).toHaveLength(2);
  });

  it('reports backend.timeout when the operator answers too slowly', async () => {
    await use({ timeoutMs: 50, retries: 1 });
    setup.server.http.inject({ kind: 'delay', ms: 400 }, { kind: 'delay', ms: 400 });
    await expect(backend.listSubscriptions('13800138000')).rejects.toMatchObject({ code: 'backend.timeout' });
    expect(setup.server.http.calls).toHaveLength(2);
  });

  it('recovers when only the first attempt times out', async () => {
    await use({ timeoutMs: 50, retries: 1 });
    setup.server.http.inject({ kind: 'delay', ms: 400 });
    expect(await backend.hasSubscriber('13800138000')).toBe(true);
  });

  it('reports backend.unavailable when nothing listens', async () => {
    await use();
    const dead = new HttpOperatorBackend({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 200, retries: 1, backoffMs: 1 });
    await expect(dead.getSubscriber('13800138000')).rejects.toMatchObject({ code: 'backend.unavailable' });
  });

  it('turns other 4xx answers into backend.rejected without retrying', async () => {
    await use();
    setup.server.http.inject({ kind: 'status', status: 409, body: JSON.stringify({ error: { code: 'conflict' } }) });
    await expect(
      backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId: 'sub-101', idempotencyKey: 'k-409' }),
    ).rejects.toMatchObject({ code: 'backend.rejected' });
    expect(setup.server.http.calls).toHaveLength(1);
  });

  it('reports backend.badResponse for a body that is not JSON', async () => {
    await use();
    setup.server.http.inject({ kind: 'status', status: 200, body: '<html>maintenance</html>' });
    await expect(backend.getSubscriber('13800138000')).rejects.toMatchObject({ code: 'backend.badResponse' });
  });

  it('reports backend.badResponse for JSON of the wrong shape', async () => {
    await use();
    setup.server.http.inject({ kind: 'status', status: 200, body: JSON.stringify({ ticket: 42 }) });
    await expect(backend.getRequest('TD20260101000001')).rejects.toMatchObject({ code: 'backend.badResponse' });
  });

  it('sends the api key as a bearer token', async () => {
    await use({}, 'secret-key');
    expect(await backend.hasSubscriber('13800138000')).toBe(true);
    expect(setup.server.http.calls[0]?.headers.authorization).toBe('Bearer secret-key');
    const keyless = new HttpOperatorBackend({ baseUrl: setup.server.url, timeoutMs: 500, retries: 0, backoffMs: 1 });
    await expect(keyless.getSubscriber('13800138000')).rejects.toMatchObject({ code: 'backend.rejected' });
  });

  it('refuses a malformed status event with input.invalid and tells no listener', async () => {
    await use();
    const seen: unknown[] = [];
    backend.onStatusChange((r) => seen.push(r));
    expect(() => backend.receiveStatusEvent({ ticket: 'TD1', status: 'done' })).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    expect(seen).toEqual([]);
  });

  it('passes a valid status event to every listener and returns it', async () => {
    await use();
    const request = await backend.fileUnsubscription({ msisdn: '13800138000', subscriptionId: 'sub-101', idempotencyKey: 'k-event' });
    const seen: string[] = [];
    backend.onStatusChange((r) => seen.push(`a:${r.status}`));
    backend.onStatusChange(() => {
      throw new Error('a broken listener');
    });
    backend.onStatusChange((r) => seen.push(`b:${r.status}`));
    const event = { ...request, status: 'processing' };
    expect(backend.receiveStatusEvent(event).status).toBe('processing');
    expect(seen).toEqual(['a:processing', 'b:processing']);
  });
});

describe('EmbeddedOperatorBackend on a fake clock', () => {
  let dir: string;
  let clock: Date;
  let backend: EmbeddedOperatorBackend;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tuiding-operator-clock-'));
    // 2026-11-30 23:30 in Beijing.
    clock = new Date('2026-11-30T15:30:00.000Z');
    backend = new EmbeddedOperatorBackend({
      file: join(dir, 'operator.json'),
      catalogue,
      seedFile,
      statusDelayMs: 60_000,
      tickMs: 3_600_000,
      now: () => clock,
    });
    await backend.start();
  });

  afterEach(async () => {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  function file(subscriptionId: string, msisdn = '13800138000', key = `k-${subscriptionId}`) {
    return backend.fileUnsubscription({ msisdn, subscriptionId, idempotencyKey: key });
  }

  it('numbers tickets by Beijing calendar day and restarts the sequence each day', async () => {
    expect((await file('sub-101')).ticket).toBe('TD20261130000001');
    expect((await file('sub-102')).ticket).toBe('TD20261130000002');
    clock = new Date('2026-11-30T16:00:00.000Z');
    expect((await file('sub-103')).ticket).toBe('TD20261201000001');
  });

  it('numbers refund claims by Beijing calendar day too, carrying on after a restart and in a file that kept no counter', async () => {
    const claim = (subscriptionId: string, key: string) => backend.fileDispute({ msisdn: '13800138000', subscriptionId, idempotencyKey: key });
    expect((await claim('sub-101', 'd-1')).ticket).toBe('TS20261130000001');
    expect((await claim('sub-102', 'd-2')).ticket).toBe('TS20261130000002');
    await backend.close();
    // A file from before the counter: the day's tickets so far are counted once.
    const path = join(dir, 'operator.json');
    const { JsonFileDb } = await import('../../src/store/json-file-db.js');
    const db = await JsonFileDb.open<{ dailySeq?: unknown }>(path, {});
    await db.update((data) => { delete data.dailySeq; });
    await db.close();
    backend = new EmbeddedOperatorBackend({ file: path, catalogue, seedFile, statusDelayMs: 60_000, tickMs: 3_600_000, now: () => clock });
    await backend.start();
    expect((await claim('sub-103', 'd-3')).ticket).toBe('TS20261130000003');
    expect((await claim('sub-104', 'd-4')).ticket).toBe('TS20261130000004');
    clock = new Date('2026-11-30T16:00:00.000Z');
    expect((await claim('sub-105', 'd-5')).ticket).toBe('TS20261201000001');
  });

  it('brings a file from an earlier version up to date: refund claims kept apart move on as requests, and requests get their catalogue id back', async () => {
    await backend.close();
    const path = join(dir, 'operator.json');
    const { JsonFileDb } = await import('../../src/store/json-file-db.js');
    const db = await JsonFileDb.open<{ requests: Record<string, unknown>[]; disputes?: unknown[] }>(path, { requests: [] });
    await db.update((data) => {
      data.disputes = [{
        ticket: 'TS20261129000001', msisdn: '13800138000', subscriptionId: 'sub-101', serviceName: '视频彩铃', claimedFen: 3000,
        status: 'submitted', createdAt: '2026-11-29T02:00:00.000Z', dueAt: '2026-12-02T02:00:00.000Z', idempotencyKey: 'old-claim',
      }];
      data.requests.push({
        ticket: 'TD20261129000001', msisdn: '13800138000', subscriptionId: 'sub-102', serviceName: '音乐会员', target: 'vas', status: 'completed',
        reasonKey: null, idempotencyKey: 'old-cancel', createdAt: '2026-11-29T02:00:00.000Z', updatedAt: '2026-11-29T02:10:00.000Z',
        effectiveAt: '2026-11-29T02:00:00.000Z', nextStepAt: null,
      });
    });
    await db.close();
    backend = new EmbeddedOperatorBackend({ file: path, catalogue, seedFile, statusDelayMs: 60_000, tickMs: 3_600_000, now: () => clock });
    await backend.start();
    expect(await backend.getRequest('TS20261129000001')).toMatchObject({ kind: 'dispute', status: 'submitted', amountFen: 3000, serviceId: 'vas-video-ringback' });
    expect((await backend.getRequest('TD20261129000001')).serviceId).toBe('vas-music-member');
    // Filing the same claim again answers with it; and it moves on like any claim.
    expect((await backend.fileDispute({ msisdn: '13800138000', subscriptionId: 'sub-101', idempotencyKey: 'old-claim' })).ticket).toBe('TS20261129000001');
    for (let step = 0; step < 2; step++) {
      clock = new Date(clock.getTime() + 60_000);
      await backend.sweep();
    }
    expect((await backend.getRequest('TS20261129000001')).status).toBe('completed');
  });

  it('computes when each kind of cancellation takes effect', async () => {
    expect((await file('sub-101')).effectiveAt).toBe(clock.toISOString());
    // nextMonth: 00:00 on 1 December in Beijing.
    expect((await file('sub-103')).effectiveAt).toBe('2026-11-30T16:00:00.000Z');
    // afterVisit: three days from now.
    expect((await file('sub-206', '13900139000')).effectiveAt).toBe('2026-12-03T15:30:00.000Z');
  });

  it('moves a request only when its step is due', async () => {
    const { ticket } = await file('sub-101');
    await backend.sweep();
    expect((await backend.getRequest(ticket)).status).toBe('submitted');
    clock = new Date(clock.getTime() + 60_000);
    await backend.sweep();
    expect((await backend.getRequest(ticket)).status).toBe('processing');
    await backend.sweep();
    expect((await backend.getRequest(ticket)).status).toBe('processing');
    clock = new Date(clock.getTime() + 60_000);
    await backend.sweep();
    const done = await backend.getRequest(ticket);
    expect(done.status).toBe('completed');
    expect(done.updatedAt).toBe(clock.toISOString());
  });

  it('moves a request filed after a sweep that found nothing due, and one filed earlier, when each is due', async () => {
    // A sweep over no requests at all remembers that nothing will ever be due.
    await backend.sweep();
    const early = await file('sub-101');
    await backend.sweep();
    clock = new Date(clock.getTime() + 30_000);
    // Filed after the sweep remembered the earliest next step: its own step is later still.
    const late = await file('sub-102');
    await backend.sweep();
    expect((await backend.getRequest(early.ticket)).status).toBe('submitted');
    clock = new Date(clock.getTime() + 30_000);
    await backend.sweep();
    expect((await backend.getRequest(early.ticket)).status).toBe('processing');
    expect((await backend.getRequest(late.ticket)).status).toBe('submitted');
    clock = new Date(clock.getTime() + 30_000);
    await backend.sweep();
    expect((await backend.getRequest(late.ticket)).status).toBe('processing');
  });

  it('seeds the data file only when it is first created', async () => {
    await file('sub-101');
    for (let step = 0; step < 2; step++) {
      clock = new Date(clock.getTime() + 60_000);
      await backend.sweep();
    }
    await backend.close();
    backend = new EmbeddedOperatorBackend({ file: join(dir, 'operator.json'), catalogue, seedFile, statusDelayMs: 60_000, now: () => clock });
    expect((await backend.listSubscriptions('13800138000')).map((s) => s.subscriptionId)).not.toContain('sub-101');
  });

  it('lists subscribers for developers without their secrets', async () => {
    const list = await backend.listSubscribers();
    expect(list.map((s) => s.msisdn)).toContain('13800138000');
    const text = JSON.stringify(list);
    expect(text).not.toContain('servicePassword');
    expect(text).not.toContain('idLast6');
    expect(text).not.toContain('246810');
    expect(list[0]).toEqual({ msisdn: expect.any(String), subscriptions: expect.any(Array), arrearsFen: expect.any(Number), balanceFen: expect.any(Number) });
  });

  it('refuses every call after close with backend.unavailable', async () => {
    await backend.close();
    await expect(backend.hasSubscriber('13800138000')).rejects.toMatchObject({ code: 'backend.unavailable' });
  });

  it('refuses a seed file that names a service missing from the catalogue', async () => {
    const broken = new EmbeddedOperatorBackend({
      file: join(dir, 'other.json'),
      catalogue: { ...catalogue, services: catalogue.services.filter((s) => s.id !== 'vas-ringback') },
      seedFile,
      statusDelayMs: 1,
    });
    await expect(broken.start()).rejects.toMatchObject({ code: 'config.invalid' });
    await broken.close();
  });
});

describe('demo subscribers', () => {
  let dir: string;
  let backend: OperatorBackend & { listSubscribers: EmbeddedOperatorBackend['listSubscribers'] };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tuiding-demo-'));
    backend = embedded(join(dir, 'operator.json'));
  });

  afterEach(async () => {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('each have exactly one plan and the number line', async () => {
    for (const s of await backend.listSubscribers()) {
      expect(s.subscriptions.filter((x) => x.target === 'plan'), s.msisdn).toHaveLength(1);
      expect(s.subscriptions.filter((x) => x.serviceId === 'number-line'), s.msisdn).toHaveLength(1);
    }
  });

  it('cover every kind of target, a number with arrears and a number with two data packs', async () => {
    const all = await backend.listSubscribers();
    const targets = new Set(all.flatMap((s) => s.subscriptions.map((x) => x.target)));
    expect([...targets].sort()).toEqual(['addon', 'broadband', 'number', 'plan', 'vas']);
    expect(all.some((s) => s.arrearsFen > 0)).toBe(true);
    expect(all.some((s) => s.subscriptions.filter((x) => x.target === 'addon' && x.name.includes('流量')).length >= 2)).toBe(true);
    const ids = all.flatMap((s) => s.subscriptions.map((x) => x.subscriptionId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
