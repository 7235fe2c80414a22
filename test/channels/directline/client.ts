import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';

/** An activity as a Direct Line client receives it. */
export interface DlActivity {
  id: string;
  type: string;
  text?: string;
  /** The plain-text summary of a card (warnings and receipts come as Adaptive Cards here). */
  summary?: string;
  attachments?: { contentType: string; content: { body?: { text: string }[] } }[];
  timestamp: string;
  replyToId?: string;
  channelId: string;
  serviceUrl?: string;
  from: { id: string; role?: string; name?: string };
  conversation: { id: string };
  channelData?: { clientActivityID?: string; tuiding?: { state?: string } };
  suggestedActions?: { actions: { title: string; value: string }[] };
}

export interface ActivitySet {
  activities: DlActivity[];
  watermark?: string;
}

export interface Conversation {
  conversationId: string;
  token: string;
  expires_in: number;
  streamUrl?: string;
}

export interface HttpResult<T> {
  status: number;
  body: T;
}

/** A Direct Line 3.0 client over plain HTTP and WebSocket, as directlinejs behaves. */
export class DirectLineClient {
  conversationId = '';
  userId = '';

  constructor(readonly base: string, public token: string) {}

  /** A token for a new conversation from the page's endpoint (POST /webchat/token). */
  static async fromPage(base: string): Promise<DirectLineClient> {
    const res = await fetch(`${base}/webchat/token`, { method: 'POST' });
    const body = (await res.json()) as Conversation & { userId: string };
    const client = new DirectLineClient(base, body.token);
    client.conversationId = body.conversationId;
    client.userId = body.userId;
    return client;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, auth: string | null = this.token): Promise<HttpResult<T>> {
    const headers: Record<string, string> = {};
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}/v3/directline${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** POST /conversations (starts the token's conversation). */
  async start(body?: unknown): Promise<HttpResult<Conversation>> {
    const result = await this.call<Conversation>('POST', '/conversations', body);
    if (result.status < 300) this.conversationId = result.body.conversationId;
    return result;
  }

  async post(activity: Record<string, unknown>): Promise<HttpResult<{ id: string }>> {
    return this.call<{ id: string }>('POST', `/conversations/${this.conversationId}/activities`, activity);
  }

  /** Sends a message as Web Chat does (with a clientActivityID); throws unless the post succeeded. */
  async say(text: string): Promise<string> {
    const res = await this.post({ type: 'message', text, locale: 'zh-CN', from: { id: this.userId || 'someone' }, channelData: { clientActivityID: randomUUID() } });
    if (res.status !== 200) throw new Error(`post answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id;
  }

  async activities(watermark?: string): Promise<HttpResult<ActivitySet>> {
    const query = watermark === undefined ? '' : `?watermark=${watermark}`;
    return this.call<ActivitySet>('GET', `/conversations/${this.conversationId}/activities${query}`);
  }

  /** GET /conversations/{id}?watermark= (reconnect): a fresh token and streamUrl. */
  async reconnect(watermark?: string): Promise<HttpResult<Conversation>> {
    const query = watermark === undefined ? '' : `?watermark=${watermark}`;
    const result = await this.call<Conversation>('GET', `/conversations/${this.conversationId}${query}`);
    if (result.status === 200) this.token = result.body.token;
    return result;
  }
}

/** One WebSocket stream and everything it received. */
export class Stream {
  readonly sets: ActivitySet[] = [];
  private readonly waiters = new Set<() => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text) this.sets.push(JSON.parse(text) as ActivitySet);
      for (const w of this.waiters) w();
    });
  }

  static open(url: string): Promise<Stream> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const stream = new Stream(ws);
      ws.once('open', () => resolve(stream));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`stream refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** The HTTP status a refused upgrade answered with. */
  static refusal(url: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
      ws.once('open', () => { ws.close(); reject(new Error('the stream was accepted')); });
      ws.once('error', () => undefined);
    });
  }

  get activities(): DlActivity[] {
    return this.sets.flatMap((s) => s.activities);
  }

  get watermark(): string | undefined {
    return this.sets.map((s) => s.watermark).filter((w) => w !== undefined).at(-1);
  }

  /** Waits until an activity matching `predicate` arrived; resolves with it. */
  async waitFor(predicate: (a: DlActivity) => boolean, timeoutMs = 10_000): Promise<DlActivity> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.activities.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; the stream received:\n${this.activities.map((a) => `${a.from.role}: ${a.text}`).join('\n')}`);
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(timer); this.waiters.delete(done); resolve(); };
        const timer = setTimeout(done, Math.min(left, 200));
        this.waiters.add(done);
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
