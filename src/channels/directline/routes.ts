import type { AddressInfo } from 'node:net';
import type restify from 'restify';
import { isAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DirectLineStore, WireActivity } from './conversation-store.js';
import { DirectLineChannel, type Grant } from './directline-channel.js';
import { attachStreams, parseWatermark } from './stream.js';

export interface DirectLineMount {
  readonly channel: DirectLineChannel;
  /** Stops accepting client calls (503) and closes every stream; the connector keeps working for turns in flight. */
  close(): void;
}

type Handler = (req: restify.Request, res: restify.Response) => Promise<void>;

/**
 * Registers the Direct Line 3.0 API under /v3/directline, its WebSocket stream, and the Bot Connector
 * routes that the bot's replies reach (/directline/connector/{key}/v3/conversations/…).
 */
export function mountDirectLine(server: restify.Server, deps: {
  store: DirectLineStore;
  secret?: string;
  /** HOST from config: the interface the bot reaches itself on. */
  host: string;
  deliver(activity: WireActivity): Promise<void>;
  logger: Logger;
}): DirectLineMount {
  const { logger } = deps;
  const channel = new DirectLineChannel({
    store: deps.store,
    secret: deps.secret,
    deliver: deps.deliver,
    selfUrl: () => `http://${selfHost(deps.host)}:${(server.address() as AddressInfo).port}`,
    logger,
  });
  let closing = false;
  const base = '/v3/directline';

  // Token holders may call from a page on another origin (bearer tokens, no cookies), as with Azure.
  const cors = (req: restify.Request, res: restify.Response) => {
    const origin = req.header('origin');
    if (!origin) return;
    res.header('Access-Control-Allow-Origin', '*');
    res.header('Access-Control-Allow-Headers', 'Authorization, Content-Type, x-ms-bot-agent, x-requested-with');
    res.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.header('Access-Control-Max-Age', '600');
  };

  /** Wraps a client route: 503 while closing, CORS, AppError → Direct Line's ErrorResponse. */
  const api = (fn: (req: restify.Request, res: restify.Response, grant: Grant) => Promise<void>): Handler => async (req, res) => {
    cors(req, res);
    if (closing) return void res.send(503, errorBody('ServiceUnavailable', 'the server is shutting down'));
    try {
      await fn(req, res, channel.authenticate(req.header('authorization')));
    } catch (err) {
      sendError(res, err, logger);
    }
  };
  const watermarkOf = (req: restify.Request) => parseWatermark((req.query as Record<string, unknown> | undefined)?.watermark);
  const idOf = (req: restify.Request) => String(req.params.conversationId);

  // Runs before the body parser: a request with neither Content-Length nor Transfer-Encoding has no
  // body (RFC 9112), which restify would otherwise refuse as an unknown media type (curl -X POST,
  // CORS preflights); preflights are answered here.
  server.pre((req: restify.Request, res: restify.Response, next: restify.Next) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith(`${base}/`) && path !== '/webchat/token') return next();
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) req.headers['content-length'] = '0';
    if (req.method !== 'OPTIONS' || !path.startsWith(`${base}/`)) return next();
    cors(req, res);
    res.send(204);
    return next(false);
  });

  server.post(`${base}/tokens/generate`, api(async (req, res, grant) => {
    res.send(200, channel.generateToken(grant, req.body));
  }));

  server.post(`${base}/tokens/refresh`, api(async (_req, res, grant) => {
    res.send(200, channel.refreshToken(grant));
  }));

  server.post(`${base}/conversations`, api(async (req, res, grant) => {
    const { created, response } = await channel.startConversation(grant, req.body, wsOrigin(req));
    res.send(created ? 201 : 200, response);
  }));

  server.get(`${base}/conversations/:conversationId`, api(async (req, res, grant) => {
    res.send(200, channel.reconnect(grant, idOf(req), watermarkOf(req), wsOrigin(req)));
  }));

  server.get(`${base}/conversations/:conversationId/activities`, api(async (req, res, grant) => {
    res.send(200, channel.activities(grant, idOf(req), watermarkOf(req)));
  }));

  server.post(`${base}/conversations/:conversationId/activities`, api(async (req, res, grant) => {
    const { id, delivered } = await channel.postActivity(grant, idOf(req), req.body);
    try {
      await delivered;
    } catch (err) {
      logger.error('Direct Line activity not processed by the bot', { conversationId: idOf(req), error: err });
      return void res.send(502, errorBody('BotError', 'the bot could not process the activity'));
    }
    res.send(200, { id });
  }));

  server.post(`${base}/conversations/:conversationId/upload`, api(async (_req, res) => {
    res.send(400, errorBody('BadArgument', 'attachments are not supported by this bot'));
  }));

  // The Bot Connector API as far as the bot uses it: send to conversation and reply to activity.
  const connector: Handler = async (req, res) => {
    if (!channel.connectorKey || req.params.key !== channel.connectorKey) return void res.send(404, errorBody('NotFound', 'not found'));
    try {
      res.send(200, await channel.fromBot(String(req.params.conversationId), req.body));
    } catch (err) {
      sendError(res, err, logger);
    }
  };
  server.post('/directline/connector/:key/v3/conversations/:conversationId/activities', connector);
  server.post('/directline/connector/:key/v3/conversations/:conversationId/activities/:activityId', connector);

  const closeStreams = attachStreams(server.server, channel, logger);

  return {
    channel,
    close() {
      if (closing) return;
      closing = true;
      closeStreams();
    },
  };
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

function sendError(res: restify.Response, err: unknown, logger: Logger): void {
  if (isAppError(err, 'auth.required')) return void res.send(401, errorBody('Unauthorized', err.message));
  if (isAppError(err, 'auth.invalid')) return void res.send(403, errorBody('Forbidden', err.message));
  if (isAppError(err, 'not.found')) return void res.send(404, errorBody('NotFound', err.message));
  if (isAppError(err, 'input.invalid')) return void res.send(400, errorBody('BadArgument', err.message));
  logger.error('Direct Line request failed', { error: err });
  res.send(500, errorBody('ServiceError', 'internal error'));
}

/** ws:// or wss:// and the host the client used (behind a TLS proxy: X-Forwarded-Proto/Host). */
function wsOrigin(req: restify.Request): string {
  const forwardedProto = req.header('x-forwarded-proto')?.split(',')[0]?.trim();
  const secure = forwardedProto ? forwardedProto === 'https' : req.isSecure();
  const host = req.header('x-forwarded-host')?.split(',')[0]?.trim() || req.header('host') || 'localhost';
  return `${secure ? 'wss' : 'ws'}://${host}`;
}

/** The address the bot calls itself on: loopback when listening on every interface. */
function selfHost(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
