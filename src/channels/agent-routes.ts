import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type restify from 'restify';
import type { Config } from '../config.js';
import { AppError, isAppError } from '../errors.js';
import type { HandoffChange, HandoffService } from '../handoff/handoff-service.js';
import type { HandoffStore, HandoffTicket } from '../handoff/handoff-store.js';
import type { I18n } from '../i18n/i18n.js';
import type { Logger } from '../log.js';
import { PROJECT_ROOT } from '../paths.js';
import { maskText } from '../privacy/mask.js';
import type { TurnRunner } from '../runtime/turn-runner.js';
import type { TranscriptStore } from '../store/transcript-store.js';

type Agent = Config['handoff']['agents'][number];

const PAGE_FILE = join(PROJECT_ROOT, 'src', 'channels', 'agent-console', 'agent.html');

/**
 * The agent console (/agent) and its API (/agent/api/*). Every API call needs
 * `Authorization: Bearer <agent token>`; the live stream is server-sent events over fetch.
 * Agents see and claim only the queues of their skills (all queues when they have none).
 */
export function registerAgentRoutes(server: restify.Server, deps: {
  config: Config;
  handoff: HandoffService;
  handoffStore: HandoffStore;
  transcripts: TranscriptStore;
  runner: TurnRunner;
  i18n: I18n;
  logger: Logger;
}): { closeStreams(): void } {
  const { config, handoff, handoffStore, transcripts, runner, i18n, logger } = deps;
  const agents = config.handoff.agents;
  const streams = new Set<restify.Response>();

  const agentOf = (req: restify.Request): Agent | undefined => {
    const header = req.header('authorization') ?? '';
    if (!header.startsWith('Bearer ')) return undefined;
    const given = Buffer.from(header.slice(7));
    return agents.find((a) => {
      const expected = Buffer.from(a.token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  };
  const serves = (agent: Agent, ticket: HandoffTicket) => agent.skills.length === 0 || agent.skills.includes(ticket.skill);

  /** Wraps a handler: 401 without a valid agent token, coded errors to 4xx, the rest to 500 without details. */
  const guarded = (handler: (agent: Agent, req: restify.Request, res: restify.Response) => Promise<void>) =>
    async (req: restify.Request, res: restify.Response) => {
      const agent = agentOf(req);
      if (!agent) return void res.send(401, { error: 'a valid agent bearer token is required' });
      try {
        await handler(agent, req, res);
      } catch (err) {
        if (isAppError(err, 'handoff.conflict')) return void res.send(409, { error: err.message });
        if (isAppError(err, 'not.found')) return void res.send(404, { error: err.message });
        logger.error('agent API failed', { agentId: agent.id, error: err });
        res.send(500, { error: 'internal error' });
      }
    };

  const ticketFor = async (agent: Agent, id: string): Promise<HandoffTicket> => {
    const ticket = await handoffStore.getTicket(id);
    if (!ticket || !serves(agent, ticket)) throw new AppError('not.found', { message: 'no such ticket' });
    return ticket;
  };

  const summary = async (t: HandoffTicket) => ({
    ...t,
    snapshot: undefined,
    leftMessage: t.leftMessage ? maskText(t.leftMessage) : null,
    ...(t.status === 'pending' ? await handoff.positionOf(t) : {}),
  });

  server.get('/agent', async (_req: restify.Request, res: restify.Response) => {
    const strings = Object.fromEntries(i18n.keys('agent.').map((k) => [k, i18n.t(k)]));
    const html = readFileSync(PAGE_FILE, 'utf8')
      .replace(/\{\{([\w.]+)\}\}/g, (_m, key: string) => escapeHtml(i18n.t(key)))
      .replace('/*__STRINGS__*/null', JSON.stringify(strings).replace(/</g, '\\u003c'));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });

  server.get('/agent/api/me', guarded(async (agent, _req, res) => {
    res.send(200, { id: agent.id, skills: agent.skills, openHours: handoff.isOpenHours(), hours: config.handoff.hoursText });
  }));

  server.get('/agent/api/queue', guarded(async (agent, _req, res) => {
    const open = (await handoffStore.listOpen()).filter((t) => serves(agent, t));
    const recent = (await handoffStore.listClosed(20)).filter((t) => serves(agent, t));
    res.send(200, { open: await Promise.all(open.map(summary)), recent: await Promise.all(recent.map(summary)) });
  }));

  server.get('/agent/api/tickets/:id', guarded(async (agent, req, res) => {
    const ticket = await ticketFor(agent, String(req.params.id));
    const [transcript, dialog, audit] = await Promise.all([
      transcripts.read(ticket.conversationId),
      runner.describe(ticket.conversationId),
      handoffStore.listAudit(ticket.id),
    ]);
    res.send(200, { ticket: await summary(ticket), transcript, dialog, audit });
  }));

  server.get('/agent/api/tickets/:id/transcript', guarded(async (agent, req, res) => {
    const ticket = await ticketFor(agent, String(req.params.id));
    const body = JSON.stringify(toEmulatorTranscript(ticket, await transcripts.read(ticket.conversationId)), null, 2);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${ticket.id}.transcript"`,
    });
    res.end(body);
  }));

  server.post('/agent/api/tickets/:id/claim', guarded(async (agent, req, res) => {
    await ticketFor(agent, String(req.params.id));
    res.send(200, await summary(await handoff.claim(String(req.params.id), agent.id)));
  }));

  server.post('/agent/api/tickets/:id/messages', guarded(async (agent, req, res) => {
    const text = typeof (req.body as { text?: unknown } | undefined)?.text === 'string' ? (req.body as { text: string }).text.trim() : '';
    if (text.length === 0 || text.length > 2000) return void res.send(400, { error: 'text must be 1–2000 characters' });
    await ticketFor(agent, String(req.params.id));
    try {
      await handoff.sendAsAgent(String(req.params.id), agent.id, text);
    } catch (err) {
      if (isAppError(err)) throw err;
      logger.warn('agent message not delivered', { agentId: agent.id, error: err });
      return void res.send(502, { error: 'the message could not be delivered to the user; try again' });
    }
    res.send(200, { ok: true });
  }));

  server.post('/agent/api/tickets/:id/handback', guarded(async (agent, req, res) => {
    const mode = (req.body as { mode?: unknown } | undefined)?.mode;
    if (mode !== 'resume' && mode !== 'restart') return void res.send(400, { error: 'mode must be resume or restart' });
    await ticketFor(agent, String(req.params.id));
    res.send(200, await summary(await handoff.handBack(String(req.params.id), agent.id, mode)));
  }));

  server.post('/agent/api/tickets/:id/end', guarded(async (agent, req, res) => {
    await ticketFor(agent, String(req.params.id));
    res.send(200, await summary(await handoff.endByAgent(String(req.params.id), agent.id)));
  }));

  // Live stream: queue changes, ticket changes and messages of the agent's queues, as server-sent events.
  server.get('/agent/api/stream', guarded(async (agent, req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`event: hello\ndata: ${JSON.stringify({ agent: agent.id })}\n\n`);
    streams.add(res);
    const onChange = (change: HandoffChange) => {
      void (async () => {
        if (change.kind !== 'queue') {
          const ticket = await handoffStore.getTicket(change.ticketId);
          if (!ticket || !serves(agent, ticket)) return;
        }
        const data = change.kind === 'message' ? { ...change, text: maskText(change.text) } : change;
        res.write(`event: ${change.kind}\ndata: ${JSON.stringify(data)}\n\n`);
      })().catch((err: unknown) => logger.warn('stream write failed', { error: err }));
    };
    handoff.events.on('change', onChange);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    keepAlive.unref();
    req.on('close', () => {
      clearInterval(keepAlive);
      handoff.events.off('change', onChange);
      streams.delete(res);
    });
  }));

  return {
    closeStreams() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}

/** A Bot Framework Emulator transcript (File → Open Transcript): an array of activities. */
export function toEmulatorTranscript(ticket: HandoffTicket, entries: { from: string; text: string; at: string; agentId?: string }[]): unknown[] {
  const conversation = { id: ticket.conversationId };
  const user = { id: 'user', name: 'User', role: 'user' };
  const bot = { id: 'bot', name: 'Tuiding', role: 'bot' };
  return entries.map((e, i) => ({
    type: 'message',
    id: `${ticket.id}-${i}`,
    timestamp: e.at,
    channelId: 'transcript',
    conversation,
    from: e.from === 'user' ? user : e.from === 'agent' ? { id: `agent:${e.agentId ?? ''}`, name: e.agentId ?? 'agent', role: 'bot' } : bot,
    recipient: e.from === 'user' ? bot : user,
    text: e.text,
    textFormat: 'plain',
  }));
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
