import type { Logger } from '../log.js';

/** How a call failed after every retry: the adapters turn this into their own AppError codes. */
export type TransportFailureKind = 'timeout' | 'network' | 'server';

export class TransportFailure extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    readonly status: number | null,
    options: { cause?: unknown; message: string },
  ) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransportFailure';
  }
}

export interface RetryPolicy {
  /** Per attempt, in ms. */
  timeoutMs: number;
  /** Extra attempts after the first one. */
  retries: number;
  /** Wait before retry n (0-based) is backoffMs * 2^n, in ms. */
  backoffMs: number;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  /** A label without personal data for logs, e.g. 'GET /subscribers/{msisdn}'. */
  route: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface HttpReply {
  status: number;
  /** The body as text ('' when empty). */
  text: string;
}

/**
 * Sends one HTTP request with fetch, retrying network errors, timeouts and 5xx with exponential
 * backoff. The same headers (including any Idempotency-Key) are sent on every attempt.
 * Resolves with any status below 500; throws TransportFailure when every attempt failed.
 */
export async function callWithRetries(call: HttpCall, policy: RetryPolicy, logger: Logger): Promise<HttpReply> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  let payload: string | undefined;
  if (call.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(call.body);
  }
  let last: TransportFailure | undefined;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(policy.backoffMs * 2 ** (attempt - 1));
    try {
      const res = await fetch(call.url, {
        method: call.method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
      // Reading the body is covered by the same timeout signal.
      const text = await res.text();
      if (res.status < 500) return { status: res.status, text };
      last = new TransportFailure('server', res.status, { message: `${call.route} answered ${res.status}` });
    } catch (err) {
      last = isTimeout(err)
        ? new TransportFailure('timeout', null, { cause: err, message: `${call.route} timed out after ${policy.timeoutMs} ms` })
        : new TransportFailure('network', null, { cause: err, message: `${call.route} failed: ${(err as Error).message}` });
    }
    if (attempt < policy.retries) {
      logger.warn('http call failed, retrying', { route: call.route, attempt: attempt + 1, kind: last.kind, status: last.status });
    }
  }
  // The loop runs at least once, so last is set.
  throw last as TransportFailure;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
