import { Agent, EnvHttpProxyAgent, RetryAgent, errors as undiciErrors, type Dispatcher } from 'undici';

/** How a send is retried: attempts after the first, and the first wait (doubled each time), in ms. */
export interface SendRetryPolicy {
  maxRetries: number;
  minTimeoutMs: number;
}

/** The retries botbuilder's connector client makes too (3 more attempts), with shorter waits: a reply late by minutes is no use in a chat. */
export const DEFAULT_SEND_RETRY: SendRetryPolicy = { maxRetries: 3, minTimeoutMs: 250 };

/** A call the channel refused or that never reached it, shaped as botbuilder's RestError (name, code, statusCode). */
export class ConnectorRestError extends Error {
  constructor(message: string, readonly statusCode: number | undefined, readonly code: string | undefined) {
    super(message);
    this.name = 'RestError';
  }
}

/** A proxy for the sends: URLs for https and http channel URLs, and the hosts that bypass it (NO_PROXY syntax). */
export interface ProxySettings {
  https?: string;
  http?: string;
  noProxy?: string;
}

/**
 * The keep-alive connections to the channels, with retries: network errors, 408, 429 (after its
 * Retry-After) and 5xx, also for POST as botbuilder's connector client does. A retried send can
 * reach the channel twice when only its answer was lost; botbuilder takes the same risk. With
 * `proxy`, channel URLs go through it (CONNECT for https) unless NO_PROXY names their host, as
 * botbuilder's pipeline did from the same environment variables.
 */
export function connectorDispatcher(retry: SendRetryPolicy = DEFAULT_SEND_RETRY, proxy?: ProxySettings): Dispatcher {
  const timeouts = { keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 };
  const connections = proxy && (proxy.https || proxy.http)
    // An explicit empty string stops undici from reading the environment itself (config.ts does that).
    ? new EnvHttpProxyAgent({ ...timeouts, httpsProxy: proxy.https ?? '', httpProxy: proxy.http ?? '', noProxy: proxy.noProxy ?? '' })
    : new Agent(timeouts);
  return new RetryAgent(connections, {
    maxRetries: retry.maxRetries,
    minTimeout: retry.minTimeoutMs,
    maxTimeout: 8_000,
    timeoutFactor: 2,
    methods: ['POST', 'PUT', 'DELETE'],
    statusCodes: [408, 429, 500, 502, 503, 504],
  });
}

type Answer = { id?: string } | undefined;

/** botbuilder's credentials as its HTTP pipeline uses them: they set headers on a request about to go out. */
export interface RequestSigner {
  signRequest(resource: { headers: { set(name: string, value: string): void } }): Promise<unknown>;
}

/**
 * The Authorization header `credentials` put on a request (none when they have no app id): they
 * are handed a stand-in for the pipeline's request with only the headers they set, and take the
 * token from their own cache, fetching or refreshing it when needed.
 */
export async function signedAuthorization(credentials: RequestSigner): Promise<string | undefined> {
  let header: string | undefined;
  await credentials.signRequest({
    headers: { set: (name, value) => { if (name.toLowerCase() === 'authorization') header = value; } },
  });
  return header;
}

/**
 * The four Bot Connector REST calls CloudAdapter makes to send, update and delete activities
 * (`/v3/conversations/...`), for one channel service URL.
 *
 * botbuilder's ConnectorClient makes the same requests through its generic HTTP pipeline, which
 * serialises every activity through the schema's model mappers: about 300 µs of CPU per send on
 * the bench machine, against about 35 here, where the activity (plain JSON data already) is
 * stringified as it is. The credentials stay botbuilder's: `authorize` gives the Authorization
 * header its connector client would send (none for an unauthenticated local bot).
 */
export class ConnectorRestClient {
  private readonly origin: string;
  private readonly basePath: string;

  constructor(
    serviceUrl: string,
    private readonly dispatcher: Dispatcher,
    private readonly authorize: () => Promise<string | undefined>,
  ) {
    const url = new URL(serviceUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
  }

  replyToActivity(conversationId: string, activityId: string, activity: unknown): Promise<Answer> {
    return this.call('POST', `${this.activities(conversationId)}/${encodeURIComponent(activityId)}`, activity);
  }

  sendToConversation(conversationId: string, activity: unknown): Promise<Answer> {
    return this.call('POST', this.activities(conversationId), activity);
  }

  updateActivity(conversationId: string, activityId: string, activity: unknown): Promise<Answer> {
    return this.call('PUT', `${this.activities(conversationId)}/${encodeURIComponent(activityId)}`, activity);
  }

  async deleteActivity(conversationId: string, activityId: string): Promise<void> {
    await this.call('DELETE', `${this.activities(conversationId)}/${encodeURIComponent(activityId)}`);
  }

  private activities(conversationId: string): string {
    return `${this.basePath}/v3/conversations/${encodeURIComponent(conversationId)}/activities`;
  }

  /**
   * One call; resolves with the resource id the channel answered (a ResourceResponse), if any.
   * Throws ConnectorRestError: with the status when the channel answered 3xx–5xx (after the
   * retries), with the error code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, …) when it was not reached.
   */
  private async call(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const authorization = await this.authorize();
    if (authorization) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
    let response: Dispatcher.ResponseData;
    try {
      response = await this.dispatcher.request({
        origin: this.origin,
        path,
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw unreached(err, method);
    }
    const text = await response.body.text();
    if (response.statusCode >= 300) throw refused(response.statusCode, text, method);
    return resourceId(text);
  }
}

/** The id in a ResourceResponse body; channels may also answer with no body or without an id. */
function resourceId(text: string): Answer {
  if (text.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(text) as { id?: unknown } | null;
    return typeof parsed?.id === 'string' ? { id: parsed.id } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The channel's answer as an error. Bot Framework channels answer an ErrorResponse
 * (`{ error: { code, message } }`); only its code is kept, since a channel's message may quote the
 * activity, and this error ends up in logs.
 */
function refused(statusCode: number, text: string, method: string): ConnectorRestError {
  let code: string | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } } | null;
    if (typeof parsed?.error?.code === 'string') code = parsed.error.code;
  } catch {
    // not JSON: the status says enough
  }
  return new ConnectorRestError(`the channel answered ${statusCode} to ${method}${code ? ` (${code})` : ''}`, statusCode, code);
}

function unreached(err: unknown, method: string): ConnectorRestError {
  // The retry agent gives up on a status it retried with RequestRetryError, which carries the status.
  if (err instanceof undiciErrors.RequestRetryError) return refused(err.statusCode, '', method);
  const code = (err as { code?: unknown })?.code;
  const codeText = typeof code === 'string' ? code : undefined;
  return new ConnectorRestError(`${method} to the channel failed${codeText ? ` (${codeText})` : ''}`, undefined, codeText);
}
