import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectorDispatcher, ConnectorRestClient, signedAuthorization, type RequestSigner } from '../../src/channels/connector-rest.js';

interface Received { method: string; path: string; authorization?: string; contentType?: string; body: string }

/** A channel that records each request and answers with what `answer` says (default 200 and an id). */
let server: Server;
let url: string;
let received: Received[];
let answer: (n: number) => { status: number; body: string; headers?: Record<string, string> };

beforeEach(async () => {
  received = [];
  answer = (n) => ({ status: 200, body: JSON.stringify({ id: `id-${n}` }) });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
      const a = answer(received.length);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const fastRetries = () => connectorDispatcher({ maxRetries: 2, minTimeoutMs: 5 });
const noAuth = async () => undefined;

describe('ConnectorRestClient', () => {
  it('makes the Bot Connector calls on the v3 routes under the service URL, with the activity as JSON, and returns the ids', async () => {
    const client = new ConnectorRestClient(`${url}/channel/`, fastRetries(), async () => 'Bearer t0k3n');
    const activity = { type: 'message', text: '已为您提交退订', timestamp: new Date('2026-11-25T08:00:00Z'), conversation: { id: 'a:b/c' } };
    await expect(client.replyToActivity('a:b/c', 'act|1', activity)).resolves.toEqual({ id: 'id-1' });
    await expect(client.sendToConversation('a:b/c', activity)).resolves.toEqual({ id: 'id-2' });
    await expect(client.updateActivity('a:b/c', 'act|1', activity)).resolves.toEqual({ id: 'id-3' });
    answer = () => ({ status: 200, body: '' });
    await expect(client.deleteActivity('a:b/c', 'act|1')).resolves.toBeUndefined();
    expect(received.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /channel/v3/conversations/a%3Ab%2Fc/activities/act%7C1',
      'POST /channel/v3/conversations/a%3Ab%2Fc/activities',
      'PUT /channel/v3/conversations/a%3Ab%2Fc/activities/act%7C1',
      'DELETE /channel/v3/conversations/a%3Ab%2Fc/activities/act%7C1',
    ]);
    expect(received.map((r) => r.authorization)).toEqual(Array(4).fill('Bearer t0k3n'));
    expect(received[0]!.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(received[0]!.body)).toEqual({ type: 'message', text: '已为您提交退订', timestamp: '2026-11-25T08:00:00.000Z', conversation: { id: 'a:b/c' } });
  });

  it('sends no Authorization header for a bot without credentials, and takes an answer without an id', async () => {
    const client = new ConnectorRestClient(url, fastRetries(), noAuth);
    answer = () => ({ status: 201, body: '{}' });
    await expect(client.sendToConversation('c1', { type: 'message', text: '您好' })).resolves.toBeUndefined();
    expect(received[0]!.authorization).toBeUndefined();
  });

  it('retries a send the channel could not take for now, and succeeds when it can', async () => {
    const client = new ConnectorRestClient(url, fastRetries(), noAuth);
    answer = (n) => (n === 1 ? { status: 503, body: '' } : n === 2 ? { status: 429, body: '', headers: { 'retry-after': '0' } } : { status: 200, body: '{"id":"late"}' });
    await expect(client.replyToActivity('c1', 'a1', { type: 'message', text: '请稍候' })).resolves.toEqual({ id: 'late' });
    expect(received.map((r) => r.body)).toEqual(Array(3).fill(JSON.stringify({ type: 'message', text: '请稍候' })));
  });

  it('gives up after the retries with the status, as botbuilder reports it', async () => {
    const client = new ConnectorRestClient(url, fastRetries(), noAuth);
    answer = () => ({ status: 502, body: 'bad gateway' });
    const err = await client.replyToActivity('c1', 'a1', { type: 'message', text: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RestError', statusCode: 502 });
    expect(received).toHaveLength(3);
  });

  it('does not retry a send the channel refused, and keeps only its error code, not its message, which may quote the activity', async () => {
    const client = new ConnectorRestClient(url, fastRetries(), noAuth);
    answer = () => ({ status: 400, body: JSON.stringify({ error: { code: 'BadArgument', message: 'bad text 13800138000' } }) });
    const err = await client.sendToConversation('c1', { type: 'message', text: '13800138000' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RestError', statusCode: 400, code: 'BadArgument' });
    expect((err as Error).message).not.toContain('13800138000');
    expect(received).toHaveLength(1);
  });

  it('fails with the network error code when the channel cannot be reached', async () => {
    const client = new ConnectorRestClient('http://127.0.0.1:9', fastRetries(), noAuth);
    const err = await client.sendToConversation('c1', { type: 'message', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'RestError', code: 'ECONNREFUSED' });
  });
});

describe('connectorDispatcher with a proxy', () => {
  it('sends through the proxy, except to the hosts NO_PROXY names', async () => {
    const tunnels: string[] = [];
    const sockets: { destroy(): void }[] = [];
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url ?? '');
      sockets.push(client);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        sockets.push(upstream);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const proxied = new ConnectorRestClient(url, connectorDispatcher({ maxRetries: 0, minTimeoutMs: 5 }, { http: proxyUrl, https: proxyUrl }), noAuth);
      await expect(proxied.sendToConversation('c1', { type: 'message', text: '经代理' })).resolves.toEqual({ id: 'id-1' });
      const direct = new ConnectorRestClient(url, connectorDispatcher({ maxRetries: 0, minTimeoutMs: 5 }, { http: proxyUrl, noProxy: '127.0.0.1' }), noAuth);
      await expect(direct.sendToConversation('c1', { type: 'message', text: '直连' })).resolves.toEqual({ id: 'id-2' });
      expect(tunnels).toEqual([new URL(url).host]);
      expect(received.map((r) => JSON.parse(r.body).text)).toEqual(['经代理', '直连']);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});

describe('signedAuthorization', () => {
  it("gives the header botbuilder's credentials sign a request with, and none without an app id", async () => {
    const create = async (appId: string) => {
      const auth = new ConfigurationBotFrameworkAuthentication({ MicrosoftAppId: appId, MicrosoftAppPassword: appId ? 'secret' : '' } as never);
      const claims = appId ? [{ type: 'aud', value: appId }] : [];
      const identity = { claims, isAuthenticated: claims.length > 0, getClaimValue: (t: string) => claims.find((c) => c.type === t)?.value ?? null };
      return (await auth.createConnectorFactory(identity as never).create(url, undefined)).credentials as unknown as RequestSigner & { getToken(): Promise<string> };
    };
    const withApp = await create('11111111-2222-3333-4444-555555555555');
    // The token itself would come from Entra ID; the credentials' own cache is stood in for.
    withApp.getToken = async () => 'eyJ.token';
    await expect(signedAuthorization(withApp)).resolves.toBe('Bearer eyJ.token');
    await expect(signedAuthorization(await create(''))).resolves.toBeUndefined();
  });
});
