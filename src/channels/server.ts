import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  ActivityTypes, EventFactory, TurnContext, type Activity, type ConversationReference,
} from 'botbuilder';
import restify from 'restify';
import type { OperatorBackend } from '../adapters/operator-backend.js';
import type { SmsOutbox } from '../adapters/sms-gateway.js';
import type { Config } from '../config.js';
import { receiptCode } from '../domain/receipt.js';
import type { RequestStatus, UnsubscribeRequest } from '../domain/types.js';
import { isAppError } from '../errors.js';
import type { I18n } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import { maskMsisdn } from '../privacy/mask.js';
import type { ProactiveSender } from '../runtime/status-notifier.js';
import type { TurnRunner } from '../runtime/turn-runner.js';
import type { HandoffService } from '../handoff/handoff-service.js';
import type { HandoffStore } from '../handoff/handoff-store.js';
import type { TranscriptStore } from '../store/transcript-store.js';
import { registerAgentRoutes, toEmulatorTranscript } from './agent-routes.js';
import { CachingBotFrameworkAuthentication } from './connector-cache.js';
import { ReplyThread } from './reply-thread.js';
import { ReplyBatchingAdapter } from './reply-adapter.js';
import { runWithTurnSyncs, TurnSyncs } from '../store/append-file.js';
import { TuidingBot, toActivities } from './bot.js';
import type { DirectLineStore, WireActivity } from './directline/conversation-store.js';
import { mountDirectLine } from './directline/routes.js';
import { mountWebChat } from './webchat/webchat.js';

export interface DevTools {
  outbox?: SmsOutbox;
  listSubscribers?: () => Promise<unknown>;
}

export interface ChannelServer {
  /** The bot itself (an ActivityHandler), e.g. for botbuilder's TestAdapter. */
  readonly bot: TuidingBot;
  readonly sender: ProactiveSender;
  /** Starts listening; resolves with the bound port (config port 0 → a free one). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting requests and waits (up to graceMs) for turns in flight. */
  close(graceMs: number): Promise<void>;
  readonly inFlight: number;
}

/**
 * The HTTP edge: restify + CloudAdapter. POST /api/messages (Bot Framework protocol), GET /healthz,
 * the operations API (/api/requests and /metrics, bearer token) and, with embedded adapters only, /dev/*.
 */
export function createChannelServer(deps: {
  config: Config;
  runner: TurnRunner;
  backend: OperatorBackend;
  i18n: I18n;
  logger: Logger;
  dev: DevTools;
  /** The self-hosted Direct Line channel and web chat page; off when absent (docs/directline.md). */
  directLine?: { store: DirectLineStore; secret?: string };
  /** GET /metrics (with the operations token): the Prometheus exposition. */
  metrics?: { exposition(): Promise<{ contentType: string; body: string }> };
  handoff: HandoffService;
  handoffStore: HandoffStore;
  transcripts: TranscriptStore;
}): ChannelServer {
  const { config, runner, backend, i18n, logger, dev } = deps;
  const auth = new CachingBotFrameworkAuthentication({
    MicrosoftAppId: config.bot.appId,
    MicrosoftAppPassword: config.bot.appPassword,
    MicrosoftAppType: config.bot.appType,
    MicrosoftAppTenantId: config.bot.tenantId,
  });
  // Outgoing activities are sent from a worker thread (reply-thread.ts); the event loop keeps the turns.
  const replies = new ReplyThread({
    credentials: {
      MicrosoftAppId: config.bot.appId,
      MicrosoftAppPassword: config.bot.appPassword,
      MicrosoftAppType: config.bot.appType,
      MicrosoftAppTenantId: config.bot.tenantId,
    },
    ...(config.proxy ? { proxy: config.proxy } : {}),
  }, (error) => logger.error('reply thread failed; it is started again for the next reply', { error }));
  replies.start();
  auth.sendRepliesThrough(replies);
  const adapter = new ReplyBatchingAdapter(auth);
  /**
   * Runs a turn whose durable writes the reply thread syncs right before it sends the turn's
   * replies (TurnSyncs in store/append-file.ts): the filing turn waits for the disk once, on the
   * reply thread, instead of once per thing it files on the event loop. What a turn wrote without
   * sending a reply after it is synced once the turn is over.
   */
  const syncedTurn = async (run: () => Promise<void>): Promise<void> => {
    const syncs = new TurnSyncs();
    try {
      await runWithTurnSyncs(syncs, run);
    } finally {
      syncs.end();
      if (syncs.size > 0) {
        await replies.sync(syncs.take()).catch((error: unknown) => logger.error('could not sync the writes of a turn', { error }));
      }
    }
  };
  const bot = new TuidingBot(runner, logger, { onHandoffStatus: (id, state) => deps.handoff.applyHubStatus(id, state) });

  adapter.onTurnError = async (context, error) => {
    const conversationId = context.activity?.conversation?.id;
    logger.error('turn failed', { conversationId, code: isAppError(error) ? error.code : 'unexpected', error });
    try {
      const locale = i18n.resolve(context.activity?.locale);
      await context.sendActivity(i18n.t('error.turn', {}, locale));
    } catch (sendError) {
      logger.warn('apology not delivered', { conversationId, error: sendError });
    }
  };

  const server = restify.createServer({ name: 'tuiding', handleUncaughtExceptions: false });
  // restify's own 4xx/5xx (unknown route, malformed or oversized body, wrong content type) in the
  // shape of the API they hit: `{ error: { code, message } }` on Direct Line (its protocol's
  // shape), `{ error: message }` everywhere else, as the bot's own handlers answer.
  server.on('restifyError', (req: restify.Request, _res: restify.Response, err: Error & { body?: { code?: string; message?: string } }, next: () => void) => {
    const raw = err.body?.message || err.message || 'the request could not be handled';
    // restify names only the type it refused (text/plain): say what it wants instead.
    const message = err.name === 'UnsupportedMediaTypeError' ? `unsupported content type ${raw}: send application/json` : raw;
    const directLine = (req.path?.() ?? req.url ?? '').startsWith('/v3/directline');
    Object.assign(err, { toJSON: () => (directLine ? { error: { code: err.body?.code ?? err.name, message } } : { error: message }) });
    next();
  });
  server.use(restify.plugins.queryParser({ mapParams: false }));
  server.use(restify.plugins.bodyParser({ maxBodySize: config.maxBodyBytes, mapParams: false, rejectUnknown: true }));

  let inFlight = 0;
  let closing = false;

  server.post('/api/messages', async (req: restify.Request, res: restify.Response) => {
    if (closing) {
      res.send(503, { error: 'shutting down' });
      return;
    }
    const problem = checkActivity(req.body);
    if (problem) {
      res.send(400, { error: problem });
      return;
    }
    inFlight++;
    try {
      await syncedTurn(() => adapter.process(req, res, (context) => bot.run(context)));
    } finally {
      inFlight--;
    }
  });

  server.get('/healthz', async (_req: restify.Request, res: restify.Response) => {
    res.send(closing ? 503 : 200, { status: closing ? 'stopping' : 'ok' });
  });

  if (config.opsToken) {
    const token = config.opsToken;
    const authorised = (req: restify.Request): boolean => {
      const header = req.header('authorization') ?? '';
      const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
      const expected = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    };
    const view = (r: UnsubscribeRequest, full: boolean) => ({ ...r, msisdn: full ? r.msisdn : maskMsisdn(r.msisdn), receiptCode: receiptCode(r) });
    const metrics = deps.metrics;
    if (metrics) {
      server.get('/metrics', async (req: restify.Request, res: restify.Response) => {
        if (!authorised(req)) return void res.send(401, { error: 'a valid bearer token is required' });
        try {
          const { contentType, body } = await metrics.exposition();
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        } catch (err) {
          logger.warn('metrics exposition failed', { error: err });
          res.send(500, { error: 'metrics are unavailable' });
        }
      });
    }
    server.get('/api/requests', async (req: restify.Request, res: restify.Response) => {
      if (!authorised(req)) return void res.send(401, { error: 'a valid bearer token is required' });
      const q = req.query as Record<string, string | undefined>;
      const status = q.status as RequestStatus | undefined;
      if (status && !['submitted', 'processing', 'completed', 'rejected'].includes(status)) {
        return void res.send(400, { error: 'status must be submitted, processing, completed or rejected' });
      }
      if (q.msisdn && !/^1[3-9]\d{9}$/.test(q.msisdn)) return void res.send(400, { error: 'msisdn must be an 11-digit mobile number' });
      try {
        const list = await backend.listRequests({ msisdn: q.msisdn, status });
        res.send(200, { requests: list.map((r) => view(r, q.full === '1' || q.full === 'true')) });
      } catch (err) {
        logger.warn('ops list failed', { error: err });
        res.send(502, { error: 'the operator back end is unavailable' });
      }
    });
    // Checks a receipt's verification code against the operator's record.
    server.get('/api/requests/:ticket/verify', async (req: restify.Request, res: restify.Response) => {
      if (!authorised(req)) return void res.send(401, { error: 'a valid bearer token is required' });
      const code = String((req.query as Record<string, unknown>).code ?? '').trim().toUpperCase();
      if (!/^[A-Z2-9]{10}$/.test(code)) return void res.send(400, { error: 'code must be the 10-character receipt code' });
      try {
        const r = await backend.getRequest(String(req.params.ticket));
        res.send(200, { ticket: r.ticket, valid: receiptCode(r) === code, status: r.status });
      } catch (err) {
        if (isAppError(err, 'backend.unknownRequest')) return void res.send(404, { error: 'no such ticket' });
        logger.warn('ops verify failed', { error: err });
        res.send(502, { error: 'the operator back end is unavailable' });
      }
    });
    server.get('/api/requests/:ticket', async (req: restify.Request, res: restify.Response) => {
      if (!authorised(req)) return void res.send(401, { error: 'a valid bearer token is required' });
      const q = req.query as Record<string, string | undefined>;
      try {
        const r = await backend.getRequest(String(req.params.ticket));
        res.send(200, view(r, q.full === '1' || q.full === 'true'));
      } catch (err) {
        if (isAppError(err, 'backend.unknownRequest')) return void res.send(404, { error: 'no such ticket' });
        logger.warn('ops get failed', { error: err });
        res.send(502, { error: 'the operator back end is unavailable' });
      }
    });
  }

  if (config.handoff.mode === 'external') {
    // Escalations go to an existing agent hub as a handoff.initiate event carrying the masked transcript.
    deps.handoff.attachHub({
      async initiate(ticket) {
        const reference = await runner.referenceOf(ticket.conversationId);
        if (!reference) throw new Error(`no conversation reference for ${ticket.conversationId}`);
        const transcript = toEmulatorTranscript(ticket, await deps.transcripts.read(ticket.conversationId));
        await adapter.continueConversationAsync(config.bot.appId ?? '', reference as Partial<ConversationReference>, async (context: TurnContext) => {
          const handoffContext = { ticketId: ticket.id, reason: ticket.reason, skill: ticket.skill, dialogState: ticket.dialogState, msisdn: ticket.msisdnMasked };
          await context.sendActivity(EventFactory.createHandoffInitiation(context, handoffContext, { activities: transcript as Activity[] }));
        });
      },
    });
  }

  const agentConsole = registerAgentRoutes(server, {
    config, handoff: deps.handoff, handoffStore: deps.handoffStore, transcripts: deps.transcripts, runner, i18n, logger,
  });

  if (dev.outbox) {
    const outbox = dev.outbox;
    server.get('/dev/sms', async (req: restify.Request, res: restify.Response) => {
      const msisdn = String((req.query as Record<string, unknown>).msisdn ?? '');
      if (!/^1[3-9]\d{9}$/.test(msisdn)) return void res.send(400, { error: 'query parameter msisdn must be an 11-digit mobile number' });
      res.send(200, { messages: await outbox.list(msisdn, 20) });
    });
  }
  if (dev.listSubscribers) {
    const list = dev.listSubscribers;
    server.get('/dev/subscribers', async (_req: restify.Request, res: restify.Response) => {
      res.send(200, { subscribers: await list() });
    });
  }

  // --- Direct Line channel + web chat page (src/channels/directline, src/channels/webchat) ---
  // Activities from Direct Line clients reach the same bot through the same CloudAdapter; the bot's
  // replies go to their serviceUrl, this server's connector routes.
  const directLine = deps.directLine && mountDirectLine(server, {
    ...deps.directLine,
    host: config.host,
    logger,
    async deliver(activity: WireActivity) {
      inFlight++;
      try {
        await syncedTurn(() => adapter.processActivityDirect('', activity as unknown as Activity, (context) => bot.run(context)));
      } finally {
        inFlight--;
      }
    },
  });
  if (directLine) mountWebChat(server, { channel: directLine.channel, i18n, logger });
  // --- end Direct Line ---

  const sender: ProactiveSender = {
    async send(conversationId, reference, replies) {
      const state = await runner.stateOf(conversationId);
      const target = directLine ? directLine.channel.rebase(reference) : reference;
      await adapter.continueConversationAsync(config.bot.appId ?? '', target as Partial<ConversationReference>, async (context: TurnContext) => {
        await context.sendActivities(toActivities({ replies, state }, context.activity.channelId));
      });
    },
  };

  return {
    bot,
    sender,
    get inFlight() { return inFlight; },
    listen(port, host) {
      return new Promise((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.removeListener('error', reject);
          resolveListen((server.address() as AddressInfo).port);
        });
      });
    },
    async close(graceMs) {
      closing = true;
      agentConsole.closeStreams();
      directLine?.close();
      // Keep listening while turns finish: Direct Line turns post their replies back to this server.
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (inFlight > 0) logger.warn('shutdown grace period over with turns still running', { inFlight });
      const stopped = new Promise<void>((done) => server.close(() => done()));
      server.server.closeAllConnections?.();
      await stopped;
      await replies.close();
    },
  };
}

/** Rejects what CloudAdapter would answer with a 500 or a TypeError. */
const KNOWN_ACTIVITY_TYPES: ReadonlySet<string> = new Set(Object.values(ActivityTypes) as string[]);

function checkActivity(body: unknown): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON activity object';
  const a = body as Record<string, unknown>;
  if (typeof a.type !== 'string' || a.type.length === 0) return 'activity.type is required';
  // Types of the Bot Framework schema the bot does not handle (typing, messageReaction…) are accepted and ignored;
  // a type the protocol does not define is a client error.
  if (!KNOWN_ACTIVITY_TYPES.has(a.type)) return `activity.type "${a.type.slice(0, 40)}" is not a Bot Framework activity type`;
  const conversation = a.conversation as Record<string, unknown> | undefined;
  if (!conversation || typeof conversation.id !== 'string' || conversation.id.length === 0) return 'activity.conversation.id is required';
  if (typeof a.serviceUrl !== 'string' || a.serviceUrl.length === 0) return 'activity.serviceUrl is required';
  // Read by the turn and by the error handler alike: a wrong type there would leave the user with no reply at all.
  if (a.locale !== undefined && a.locale !== null && typeof a.locale !== 'string') return 'activity.locale must be a string';
  for (const key of ['membersAdded', 'membersRemoved', 'attachments'] as const) {
    const list = a[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((x) => !x || typeof x !== 'object')) return `activity.${key} must be an array of objects`;
  }
  return null;
}
