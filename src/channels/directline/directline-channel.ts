import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DirectLineStore, StoredActivity, WireActivity } from './conversation-store.js';
import { secretMatches, TokenSigner, type TokenClaims } from './tokens.js';

/** Who is calling the Direct Line API: the secret holder (any conversation) or a token holder (one). */
export type Grant = { kind: 'secret' } | { kind: 'token'; claims: TokenClaims };

/** What a WebSocket stream receives: Direct Line's ActivitySet. */
export interface ActivitySet {
  activities: WireActivity[];
  watermark?: string;
}

/** The Conversation object of Direct Line 3.0 (token lifetime in seconds). */
export interface ConversationResponse {
  conversationId: string;
  token: string;
  expires_in: number;
  streamUrl?: string;
}

/** Seconds a conversation token lives (as Azure's Direct Line: 30 minutes, refreshable). */
export const TOKEN_TTL_SECONDS = 1800;
/** Seconds a streamUrl may wait to be connected (Azure allows 60). */
export const STREAM_TTL_SECONDS = 60;
/** Most activities returned by one GET …/activities; the client pages on with the returned watermark. */
export const PAGE_SIZE = 50;
/** The bot as the Direct Line client sees it. */
export const BOT_ACCOUNT = { id: 'tuiding', name: 'Tuiding', role: 'bot' } as const;
export const CHANNEL_ID = 'directline';

/** What the channel needs from its host (server.ts wires CloudAdapter in as `deliver`). */
export interface DirectLineDeps {
  store: DirectLineStore;
  /** DIRECTLINE_SECRET; when unset a random secret is made for this run (and never shown). */
  secret?: string;
  /** Hands an activity to the bot (CloudAdapter), resolving once the bot's turn finished. */
  deliver(activity: WireActivity): Promise<void>;
  /** Base URL of this server as the bot reaches it, e.g. http://127.0.0.1:3978 (the bound port). */
  selfUrl(): string;
  logger: Logger;
}

type Listener = (event: { stored?: StoredActivity; transient?: WireActivity }) => void;

/**
 * A self-hosted Direct Line 3.0 channel, transport aside (routes.ts and stream.ts speak HTTP and
 * WebSocket). User activities get channelId 'directline' and a serviceUrl pointing at this channel's
 * connector, are stored, echoed to the conversation's streams and handed to the bot; the bot's
 * replies and proactive messages come back through the connector (`fromBot`) and are stored and
 * streamed the same way.
 */
export class DirectLineChannel {
  readonly tokens: TokenSigner;
  /** Path segment that the bot's connector calls must present (derived from the store's key). */
  readonly connectorKey: string;
  private readonly secret: string;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly deps: DirectLineDeps) {
    this.tokens = new TokenSigner(deps.store.signingKey);
    this.connectorKey = createHmac('sha256', deps.store.signingKey).update('connector').digest('base64url').slice(0, 32);
    this.secret = deps.secret ?? randomBytes(32).toString('base64url');
    if (!deps.secret) {
      deps.logger.info('DIRECTLINE_SECRET is not set: generated a random one for this run (not shown); the web chat page uses per-conversation tokens from POST /webchat/token');
    }
  }

  /** The serviceUrl given to the bot: its replies land on this channel's connector routes. */
  serviceUrl(): string {
    return `${this.deps.selfUrl()}/directline/connector/${this.connectorKey}`;
  }

  /**
   * A stored conversation reference pointing at this channel, re-aimed at the current serviceUrl
   * (the port may differ after a restart); other references are returned unchanged.
   */
  rebase<T>(reference: T): T {
    const r = reference as { channelId?: unknown; serviceUrl?: unknown } | null;
    if (!r || r.channelId !== CHANNEL_ID || typeof r.serviceUrl !== 'string' || !r.serviceUrl.includes('/directline/connector/')) return reference;
    return { ...r, serviceUrl: this.serviceUrl() } as T;
  }

  /** Parses `Authorization: Bearer …`. Throws AppError 'auth.required' (none) or 'auth.invalid'. */
  authenticate(header: string | undefined): Grant {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw new AppError('auth.required', { message: 'Authorization: Bearer <secret or token> is required' });
    const presented = match[1]!;
    if (secretMatches(presented, this.secret)) return { kind: 'secret' };
    const claims = this.tokens.verify(presented);
    if (claims.scope !== 'conversation') throw new AppError('auth.invalid', { message: 'a stream token cannot call the API' });
    return { kind: 'token', claims };
  }

  /** POST /tokens/generate: a token for a conversation not started yet. Secret only. */
  generateToken(grant: Grant, body: unknown): ConversationResponse {
    if (grant.kind !== 'secret') throw new AppError('auth.invalid', { message: 'tokens/generate needs the secret' });
    const conversationId = newConversationId();
    return this.conversationResponse(conversationId, userIdIn(body) ?? newUserId());
  }

  /** A token for a brand-new conversation, for a page on this server (POST /webchat/token). */
  mintForPage(): ConversationResponse & { userId: string } {
    const userId = newUserId();
    return { ...this.conversationResponse(newConversationId(), userId), userId };
  }

  /**
   * A fresh token for a token's conversation if that conversation exists (a reloaded page resumes);
   * undefined otherwise. Never throws.
   */
  resumeForPage(token: string): (ConversationResponse & { userId: string }) | undefined {
    try {
      const claims = this.tokens.verify(token);
      if (claims.scope !== 'conversation' || !this.deps.store.get(claims.conv)) return undefined;
      return { ...this.conversationResponse(claims.conv, claims.user), userId: claims.user };
    } catch {
      return undefined;
    }
  }

  /** POST /tokens/refresh: the same conversation, a new expiry. Token only. */
  refreshToken(grant: Grant): ConversationResponse {
    if (grant.kind !== 'token') throw new AppError('input.invalid', { message: 'tokens/refresh needs a token, not the secret' });
    return this.conversationResponse(grant.claims.conv, grant.claims.user);
  }

  /**
   * POST /conversations: starts the token's conversation (or, with the secret, a new one) and tells
   * the bot the user joined. `created` is false when a token's conversation had already started.
   */
  async startConversation(grant: Grant, body: unknown, wsOrigin: string): Promise<{ created: boolean; response: ConversationResponse }> {
    const conversationId = grant.kind === 'token' ? grant.claims.conv : newConversationId();
    const userId = grant.kind === 'token' ? grant.claims.user : userIdIn(body) ?? newUserId();
    const locale = localeIn(body);
    const created = await this.deps.store.create({ id: conversationId, userId, locale });
    if (created) {
      await this.deps.store.addMember(conversationId, userId);
      await this.join(conversationId, userId, locale, true);
    }
    return { created, response: { ...this.conversationResponse(conversationId, userId), streamUrl: this.streamUrl(wsOrigin, conversationId, userId) } };
  }

  /** GET /conversations/{id}?watermark=: a new token and streamUrl for an existing conversation. */
  reconnect(grant: Grant, conversationId: string, watermark: number | undefined, wsOrigin: string): ConversationResponse {
    const conversation = this.conversationFor(grant, conversationId);
    return {
      ...this.conversationResponse(conversationId, conversation.userId),
      streamUrl: this.streamUrl(wsOrigin, conversationId, conversation.userId, watermark),
    };
  }

  /**
   * POST /conversations/{id}/activities: stores and streams the user's activity (the echo that Web
   * Chat waits for), then hands it to the bot. Resolves with the activity id once the bot's turn has
   * finished. Throws AppError 'input.invalid', 'auth.*', 'not.found'; a failed turn rejects with the
   * bot's error (the route answers 502).
   */
  async postActivity(grant: Grant, conversationId: string, body: unknown): Promise<{ id: string; delivered: Promise<void> }> {
    const conversation = this.conversationFor(grant, conversationId);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new AppError('input.invalid', { message: 'the body must be an activity object' });
    const posted = body as Record<string, unknown>;
    if (typeof posted.type !== 'string' || posted.type.length === 0) throw new AppError('input.invalid', { message: 'activity.type is required' });
    const from = posted.from && typeof posted.from === 'object' ? posted.from as Record<string, unknown> : {};
    // A token is bound to its user: whatever the client says, activities come from that user.
    const userId = grant.kind === 'token' ? grant.claims.user : validUserId(from.id);
    if (!userId) throw new AppError('input.invalid', { message: 'activity.from.id (letters, digits, _.:@-, at most 64) is required when posting with the secret' });
    if (await this.deps.store.addMember(conversationId, userId)) await this.join(conversationId, userId, conversation.locale, false);

    const { id: _id, serviceUrl: _s, channelId: _c, conversation: _v, recipient: _r, timestamp: _t, ...rest } = posted;
    const wire: WireActivity = {
      ...rest,
      type: posted.type,
      channelId: CHANNEL_ID,
      conversation: { id: conversationId },
      from: { ...from, id: userId, role: 'user' },
      recipient: { ...BOT_ACCOUNT },
      ...(typeof posted.locale === 'string' ? {} : conversation.locale ? { locale: conversation.locale } : {}),
    };
    let forBot: WireActivity;
    let id: string;
    if (wire.type === 'typing') {
      // Typing is streamed, never stored (as Azure's Direct Line: WebSocket only).
      id = `${conversationId}|t-${randomUUID()}`;
      forBot = { ...wire, id, timestamp: new Date().toISOString() };
      this.publish(conversationId, { transient: forBot });
    } else {
      const stored = await this.deps.store.append(conversationId, wire);
      if (!stored) throw new AppError('not.found', { message: 'conversation not found' });
      this.publish(conversationId, { stored });
      id = stored.activity.id;
      forBot = stored.activity;
    }
    return { id, delivered: this.deps.deliver({ ...forBot, serviceUrl: this.serviceUrl() }) };
  }

  /** GET /conversations/{id}/activities?watermark=: stored activities after the watermark, one page. */
  activities(grant: Grant, conversationId: string, watermark: number | undefined): ActivitySet {
    const conversation = this.conversationFor(grant, conversationId);
    const page = this.deps.store.since(conversationId, watermark ?? 0, PAGE_SIZE) ?? [];
    const last = page.at(-1)?.seq ?? Math.min(watermark ?? conversation.seq, conversation.seq);
    return { activities: page.map((s) => s.activity), watermark: String(last) };
  }

  /**
   * An activity from the bot, arriving at the connector ({serviceUrl}/v3/conversations/{id}/activities[/{replyToId}]).
   * Resolves with the id given to it. An activity for a conversation no longer kept is dropped
   * (logged), so the bot does not retry forever.
   */
  async fromBot(conversationId: string, body: unknown): Promise<{ id: string }> {
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof (body as { type?: unknown }).type !== 'string') {
      throw new AppError('input.invalid', { message: 'the body must be an activity with a type' });
    }
    const { serviceUrl: _s, id: _id, timestamp: _t, ...rest } = body as WireActivity;
    const wire: WireActivity = { ...rest, channelId: CHANNEL_ID, conversation: { id: conversationId }, from: { ...BOT_ACCOUNT, ...(rest.from as object | undefined), role: 'bot' } };
    if (wire.type === 'typing') {
      const transient = { ...wire, id: `${conversationId}|t-${randomUUID()}`, timestamp: new Date().toISOString() };
      this.publish(conversationId, { transient });
      return { id: transient.id };
    }
    const stored = await this.deps.store.append(conversationId, wire);
    if (!stored) {
      this.deps.logger.warn('bot activity for an unknown Direct Line conversation dropped', { conversationId });
      return { id: randomUUID() };
    }
    this.publish(conversationId, { stored });
    return { id: stored.activity.id };
  }

  /** Checks a streamUrl's token. Throws AppError 'auth.invalid' or 'not.found'. */
  checkStream(conversationId: string, token: string): void {
    const claims = this.tokens.verify(token);
    if (claims.scope !== 'stream' || claims.conv !== conversationId) throw new AppError('auth.invalid', { message: 'the stream token is for another conversation' });
    if (!this.deps.store.get(conversationId)) throw new AppError('not.found', { message: 'conversation not found' });
  }

  /**
   * Streams a conversation: first what was stored after `watermark` (one set), then every new
   * activity as it happens. Returns the function that stops it.
   */
  subscribe(conversationId: string, watermark: number | undefined, send: (set: ActivitySet) => void): () => void {
    let last = watermark ?? 0;
    const listener: Listener = ({ stored, transient }) => {
      if (transient) return send({ activities: [transient] });
      if (!stored || stored.seq <= last) return;
      last = stored.seq;
      send({ activities: [stored.activity], watermark: String(stored.seq) });
    };
    let set = this.listeners.get(conversationId);
    if (!set) this.listeners.set(conversationId, (set = new Set()));
    set.add(listener);
    const backlog = this.deps.store.since(conversationId, last) ?? [];
    if (backlog.length > 0) {
      last = backlog.at(-1)!.seq;
      send({ activities: backlog.map((s) => s.activity), watermark: String(last) });
    }
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(conversationId);
    };
  }

  private publish(conversationId: string, event: Parameters<Listener>[0]): void {
    for (const listener of this.listeners.get(conversationId) ?? []) {
      try {
        listener(event);
      } catch (err) {
        this.deps.logger.warn('stream listener failed', { conversationId, error: err });
      }
    }
  }

  /** Tells the bot who joined (conversationUpdate); the bot greets. Failures are logged, not thrown. */
  private async join(conversationId: string, userId: string, locale: string | undefined, withBot: boolean): Promise<void> {
    const user = { id: userId, role: 'user' };
    const update: WireActivity = {
      type: 'conversationUpdate',
      id: randomUUID(),
      timestamp: new Date().toISOString(),
      channelId: CHANNEL_ID,
      serviceUrl: this.serviceUrl(),
      conversation: { id: conversationId },
      from: user,
      recipient: { ...BOT_ACCOUNT },
      membersAdded: withBot ? [{ ...BOT_ACCOUNT }, user] : [user],
      ...(locale ? { locale } : {}),
    };
    try {
      await this.deps.deliver(update);
    } catch (err) {
      this.deps.logger.warn('conversationUpdate not delivered', { conversationId, error: err });
    }
  }

  private conversationFor(grant: Grant, conversationId: string) {
    if (grant.kind === 'token' && grant.claims.conv !== conversationId) {
      throw new AppError('auth.invalid', { message: 'the token is for another conversation' });
    }
    const conversation = this.deps.store.get(conversationId);
    if (!conversation) throw new AppError('not.found', { message: 'conversation not found' });
    return conversation;
  }

  private conversationResponse(conversationId: string, userId: string): ConversationResponse {
    return { conversationId, token: this.tokens.issue({ conv: conversationId, user: userId, scope: 'conversation' }, TOKEN_TTL_SECONDS), expires_in: TOKEN_TTL_SECONDS };
  }

  private streamUrl(wsOrigin: string, conversationId: string, userId: string, watermark?: number): string {
    const t = this.tokens.issue({ conv: conversationId, user: userId, scope: 'stream' }, STREAM_TTL_SECONDS);
    const query = new URLSearchParams({ t, ...(watermark === undefined ? {} : { watermark: String(watermark) }) });
    return `${wsOrigin}/v3/directline/conversations/${encodeURIComponent(conversationId)}/stream?${query.toString()}`;
  }
}

function newConversationId(): string {
  return randomBytes(16).toString('base64url');
}

/** User ids made here start with dl_, as Azure's do: directlinejs treats those as bound to the token. */
function newUserId(): string {
  return `dl_${randomBytes(12).toString('base64url')}`;
}

function validUserId(id: unknown): string | undefined {
  return typeof id === 'string' && /^[\w.:@-]{1,64}$/.test(id) ? id : undefined;
}

function userIdIn(body: unknown): string | undefined {
  return validUserId((body as { user?: { id?: unknown } } | undefined)?.user?.id);
}

function localeIn(body: unknown): string | undefined {
  const locale = (body as { locale?: unknown } | undefined)?.locale;
  return typeof locale === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(locale) ? locale : undefined;
}
