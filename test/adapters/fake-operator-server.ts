import { isAppError } from '../../src/errors.js';
import type { OperatorBackend, SecretKind } from '../../src/adapters/operator-backend.js';
import type { RequestStatus } from '../../src/domain/types.js';
import { FakeHttpServer, type JsonReply, type RecordedCall } from './fake-http.js';

/**
 * The operator REST API of docs/operator-api.md, served from any OperatorBackend (the tests use
 * an EmbeddedOperatorBackend so the HTTP adapter is held to the same behaviour).
 * `backend` may be swapped to simulate an operator restart.
 */
export class FakeOperatorServer {
  private constructor(readonly http: FakeHttpServer, private readonly ref: { backend: OperatorBackend }) {}

  static async start(backend: OperatorBackend, apiKey?: string): Promise<FakeOperatorServer> {
    const ref = { backend };
    const http = await FakeHttpServer.start((call) => route(ref.backend, call, apiKey));
    return new FakeOperatorServer(http, ref);
  }

  get url(): string {
    return this.http.url;
  }

  get backend(): OperatorBackend {
    return this.ref.backend;
  }

  set backend(backend: OperatorBackend) {
    this.ref.backend = backend;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

const NOT_FOUND: Record<string, string> = {
  'backend.unknownSubscriber': 'unknownSubscriber',
  'backend.unknownSubscription': 'unknownSubscription',
  'backend.unknownRequest': 'unknownRequest',
};

async function route(backend: OperatorBackend, call: RecordedCall, apiKey: string | undefined): Promise<JsonReply> {
  if (apiKey !== undefined && call.headers.authorization !== `Bearer ${apiKey}`) {
    return { status: 401, body: { error: { code: 'unauthorized' } } };
  }
  const url = new URL(call.path, 'http://fake');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'subscribers' && parts[1] !== undefined) {
      const msisdn = parts[1];
      if (call.method === 'GET' && parts.length === 2) return { status: 200, body: await backend.getSubscriber(msisdn) };
      if (call.method === 'GET' && parts[2] === 'subscriptions') {
        return { status: 200, body: { subscriptions: await backend.listSubscriptions(msisdn) } };
      }
      if (call.method === 'GET' && parts[2] === 'charges' && parts.length === 3) {
        return { status: 200, body: { charges: await backend.listCharges(msisdn) } };
      }
      if (call.method === 'POST' && parts[2] === 'service-password' && parts.length === 3) {
        const key = call.headers['idempotency-key'];
        const body = call.body as { newSecret?: unknown } | undefined;
        if (typeof key !== 'string' || typeof body?.newSecret !== 'string') return { status: 400, body: { error: { code: 'invalidBody' } } };
        try {
          return { status: 200, body: await backend.changeServicePassword({ msisdn, newSecret: body.newSecret, idempotencyKey: key }) };
        } catch (err) {
          if (isAppError(err, 'backend.rejected')) return { status: 422, body: { error: { code: 'weakPassword' } } };
          throw err;
        }
      }
      if (call.method === 'POST' && parts[2] === 'suspension' && parts.length === 3) {
        const key = call.headers['idempotency-key'];
        if (typeof key !== 'string') return { status: 400, body: { error: { code: 'invalidBody' } } };
        return { status: 201, body: await backend.suspendLine(msisdn, key) };
      }
      if (call.method === 'POST' && parts[2] === 'secrets' && parts[3] === 'verify') {
        const body = call.body as { kind?: SecretKind; value?: string } | undefined;
        if (!body || (body.kind !== 'servicePassword' && body.kind !== 'idLast6') || typeof body.value !== 'string') {
          return { status: 400, body: { error: { code: 'invalidBody' } } };
        }
        return { status: 200, body: { match: await backend.verifySecret(msisdn, body.kind, body.value) } };
      }
    }
    if (parts[0] === 'disputes' && call.method === 'POST' && parts.length === 1) {
      const key = call.headers['idempotency-key'];
      const body = call.body as { msisdn?: string; subscriptionId?: string; chargeIds?: string[]; parentTicket?: string } | undefined;
      if (typeof key !== 'string' || !body?.msisdn || !body.subscriptionId) return { status: 400, body: { error: { code: 'invalidBody' } } };
      try {
        return {
          status: 201,
          body: await backend.fileDispute({
            msisdn: body.msisdn, subscriptionId: body.subscriptionId, idempotencyKey: key,
            ...(body.chargeIds ? { chargeIds: body.chargeIds } : {}), ...(body.parentTicket ? { parentTicket: body.parentTicket } : {}),
          }),
        };
      } catch (err) {
        if (isAppError(err, 'backend.rejected')) return { status: 422, body: { error: { code: 'unknownCharge' } } };
        throw err;
      }
    }
    if (parts[0] === 'unsubscriptions') {
      if (call.method === 'POST' && parts.length === 1) {
        const key = call.headers['idempotency-key'];
        const body = call.body as { msisdn?: string; subscriptionId?: string; notBefore?: string } | undefined;
        if (typeof key !== 'string' || !body?.msisdn || !body.subscriptionId) {
          return { status: 400, body: { error: { code: 'invalidBody' } } };
        }
        const request = await backend.fileUnsubscription({
          msisdn: body.msisdn, subscriptionId: body.subscriptionId, idempotencyKey: key, ...(body.notBefore ? { notBefore: body.notBefore } : {}),
        });
        return { status: 201, body: request };
      }
      if (call.method === 'POST' && parts.length === 3 && parts[2] === 'withdraw' && parts[1] !== undefined) {
        try {
          return { status: 200, body: await backend.withdrawUnsubscription(parts[1]) };
        } catch (err) {
          if (isAppError(err, 'backend.rejected')) return { status: 409, body: { error: { code: 'alreadyProcessing' } } };
          throw err;
        }
      }
      if (call.method === 'GET' && parts.length === 2 && parts[1] !== undefined) return { status: 200, body: await backend.getRequest(parts[1]) };
      if (call.method === 'GET' && parts.length === 1) {
        const msisdn = url.searchParams.get('msisdn') ?? undefined;
        const status = (url.searchParams.get('status') ?? undefined) as RequestStatus | undefined;
        return { status: 200, body: { requests: await backend.listRequests({ msisdn, status }) } };
      }
    }
    return { status: 404, body: { error: { code: 'noSuchRoute' } } };
  } catch (err) {
    if (isAppError(err) && NOT_FOUND[err.code]) return { status: 404, body: { error: { code: NOT_FOUND[err.code] } } };
    throw err;
  }
}
