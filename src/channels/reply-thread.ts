import { Worker } from 'node:worker_threads';
import { currentTurnSyncs } from '../store/append-file.js';
import type { ProxySettings, SendRetryPolicy } from './connector-rest.js';

/** What the reply thread needs to send: the bot's Bot Framework credentials, and how sends are retried. */
export interface ReplyThreadSettings {
  credentials: {
    [name: string]: string | undefined;
    MicrosoftAppId?: string;
    MicrosoftAppPassword?: string;
    MicrosoftAppType?: string;
    MicrosoftAppTenantId?: string;
  };
  /** Default DEFAULT_SEND_RETRY (connector-rest.ts). */
  retry?: SendRetryPolicy;
  /** The proxy to send through (config.proxy); none when absent. */
  proxy?: ProxySettings;
}

/**
 * The connector client calls CloudAdapter makes to send, update and delete activities, and
 * `sendAll`: a turn's activities sent one after another by one request to the thread.
 */
export type ReplyOperation = 'replyToActivity' | 'sendToConversation' | 'updateActivity' | 'deleteActivity' | 'sendAll' | 'sync';

/** One activity of a `sendAll`: a reply to `replyToId` when it is set, else sent to the conversation. */
export interface OutgoingActivity {
  conversationId: string;
  replyToId?: string;
  activity: unknown;
}

/** Which connector client a call goes through: the claims of the turn, the channel's service URL, the audience. */
export interface ClientKey {
  claims: { type: string; value: string }[];
  serviceUrl: string;
  audience?: string;
}

/** A request to the reply thread and its answer (the wire format between the threads). */
export interface ReplyRequest {
  id: number;
  op: ReplyOperation;
  key: ClientKey;
  args: unknown[];
  /** Files to fdatasync before anything is sent: the durable writes of the turn this reply answers. */
  sync?: string[];
}
export type ReplyAnswer =
  | { id: number; ok: true; value: { id?: string } | ({ id?: string } | undefined)[] | undefined }
  | { id: number; ok: false; error: { name: string; message: string; code?: string; statusCode?: number } };

/** The `conversations` operations of a ConnectorClient that CloudAdapter uses, carried out on the reply thread. */
export interface RemoteConversations {
  replyToActivity(conversationId: string, activityId: string, activity: unknown): Promise<{ id?: string } | undefined>;
  sendToConversation(conversationId: string, activity: unknown): Promise<{ id?: string } | undefined>;
  updateActivity(conversationId: string, activityId: string, activity: unknown): Promise<{ id?: string } | undefined>;
  deleteActivity(conversationId: string, activityId: string): Promise<void>;
  /**
   * Sends `activities` in order, each once the one before was accepted, as CloudAdapter does, and
   * answers with their resource ids; fails with the first failure (the ones before it were sent).
   */
  sendAll(activities: OutgoingActivity[]): Promise<({ id?: string } | undefined)[]>;
}

// From the TypeScript sources (tests, npm run dev) a small bootstrap registers tsx in the worker first.
const WORKER_FILE = import.meta.url.endsWith('.ts') ? './reply-worker.dev.mjs' : './reply-worker.js';

/**
 * Sends the bot's activities from a worker thread.
 *
 * Under load the event loop, which parses incoming activities, understands the text and runs the
 * dialog, is the bot's bottleneck. Here the sends (connector-rest.ts: the Bot Connector REST
 * calls botbuilder's connector client would make, with its credentials) and the fdatasyncs that
 * must come before them run in a worker thread, and the event loop only posts the activity there
 * and awaits the answer: one request after another per conversation, as CloudAdapter awaits them.
 *
 * A failure comes back as an Error with the name ('RestError'), message, code and statusCode of
 * the failed call. Should the worker die, calls in flight fail and the next call starts a new one.
 */
export class ReplyThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: unknown) => void }>();
  private closed = false;
  /** close() waiting for the calls in flight. */
  private readonly idle: (() => void)[] = [];

  /** `onError`: told when the worker fails or exits unexpectedly (the calls in flight fail with it). */
  constructor(private readonly settings: ReplyThreadSettings, private readonly onError: (err: Error) => void = () => {}) {}

  /** Starts the worker now (it loads botbuilder, which takes a moment), rather than on the first reply. */
  start(): void {
    this.ensure();
  }

  /** The conversation operations of the connector client for `key`, carried out on the worker. */
  conversations(key: ClientKey): RemoteConversations {
    const call = (op: ReplyOperation, args: unknown[]) => this.call(op, key, args);
    return {
      replyToActivity: (conversationId, activityId, activity) => call('replyToActivity', [conversationId, activityId, activity]) as Promise<{ id?: string } | undefined>,
      sendToConversation: (conversationId, activity) => call('sendToConversation', [conversationId, activity]) as Promise<{ id?: string } | undefined>,
      updateActivity: (conversationId, activityId, activity) => call('updateActivity', [conversationId, activityId, activity]) as Promise<{ id?: string } | undefined>,
      deleteActivity: async (conversationId, activityId) => { await call('deleteActivity', [conversationId, activityId]); },
      sendAll: (activities) => call('sendAll', [activities]) as Promise<({ id?: string } | undefined)[]>,
    };
  }

  /**
   * Makes `files` durable (fdatasync on the worker): the writes of a turn that sent no reply to
   * carry them (see TurnSyncs in store/append-file.ts). Rejects as a send does.
   */
  async sync(files: string[]): Promise<void> {
    if (files.length > 0) await this.call('sync', { claims: [], serviceUrl: '' }, [], files);
  }

  /** Waits for the calls in flight, then stops the worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pending.size > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.worker?.terminate();
    this.worker = undefined;
  }

  /**
   * Asks the worker for `op`. Sent from a turn that carries TurnSyncs, the files of the turn's
   * durable writes go along and are synced on the worker before anything is sent: the reply never
   * leaves before what it tells is on disk.
   */
  private call(op: ReplyOperation, key: ClientKey, args: unknown[], files: string[] = []): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the reply thread is closed'));
    const worker = this.ensure();
    const id = this.nextId++;
    const sync = [...files, ...(currentTurnSyncs()?.take() ?? [])];
    return new Promise((resolve, reject) => {
      // A send in flight keeps the process alive, as botbuilder's own HTTP request would.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      // Activities are plain data (Partial<Activity>): the structured clone carries them as they are.
      const request: ReplyRequest = { id, op, key, args, ...(sync.length > 0 ? { sync } : {}) };
      worker.postMessage(request);
    });
  }

  /** Takes call `id` off the list; the last one lets the process exit again and wakes close(). */
  private settle(id: number): { resolve: (value: unknown) => void; reject: (err: unknown) => void } | undefined {
    const waiting = this.pending.get(id);
    if (!waiting) return undefined;
    this.pending.delete(id);
    if (this.pending.size === 0) {
      this.worker?.unref();
      for (const wake of this.idle.splice(0)) wake();
    }
    return waiting;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL(WORKER_FILE, import.meta.url), { workerData: this.settings });
    worker.on('message', (answer: ReplyAnswer) => {
      const waiting = this.settle(answer.id);
      if (!waiting) return;
      if (answer.ok) waiting.resolve(answer.value);
      else waiting.reject(Object.assign(new Error(answer.error.message), answer.error));
    });
    const fail = (err: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const failure = err instanceof Error ? err : new Error(`the reply thread stopped (${String(err)})`);
      if (!this.closed) this.onError(failure);
      for (const id of [...this.pending.keys()]) this.settle(id)?.reject(failure);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the reply thread exited with code ${code}`)));
    // Idle, the worker must not keep the process alive (the server and timers decide that).
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
