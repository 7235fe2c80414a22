import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedActivity {
  type: string;
  text?: string;
  conversation: { id: string };
  replyToId?: string;
  suggestedActions?: { actions: { title: string; value: string }[] };
  channelData?: { tuiding?: { state?: string } };
  /** Card replies: the plain text of the card. */
  summary?: string;
  attachments?: { contentType: string; content?: { body?: { text?: string }[] } }[];
}

/**
 * A stand-in for the Bot Framework channel (what the Emulator runs): receives the bot's replies
 * at {serviceUrl}/v3/conversations/{id}/activities[/{replyToId}] and lets tests wait for them.
 */
export class FakeChannel {
  readonly received: ReceivedActivity[] = [];
  private readonly waiters: Array<() => void> = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
      req.on('end', () => {
        if (req.method === 'POST' && /^\/v3\/conversations\/[^/]+\/activities/.test(req.url ?? '')) {
          this.received.push(JSON.parse(body) as ReceivedActivity);
          for (const w of this.waiters.splice(0)) w();
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ id: randomUUID() }));
        } else {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** Messages received for a conversation so far. */
  messages(conversationId: string): ReceivedActivity[] {
    return this.received.filter((a) => a.type === 'message' && a.conversation.id === conversationId);
  }

  /** Waits until `predicate` holds for the received activities (or fails after timeoutMs). */
  async waitFor(predicate: (all: ReceivedActivity[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; received:\n${this.received.map((a) => a.text).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }
}

/** Posts activities to the bot the way Bot Framework Emulator does (no credentials). */
export class EmulatorClient {
  /** Activities the bot sent in answer to this client's posts (the rest were sent unprompted). */
  private readonly answers = new Set<ReceivedActivity>();
  /** What every activity says about the user's language and the channel (cards are rendered on webchat, not emulator). */
  locale = 'zh-CN';
  channelId = 'emulator';

  constructor(private readonly botUrl: string, private readonly channel: FakeChannel, readonly conversationId = `conv-${randomUUID()}`) {}

  /** Messages the bot sent to this conversation on its own, not while answering a post. */
  unprompted(): ReceivedActivity[] {
    return this.channel.messages(this.conversationId).filter((a) => !this.answers.has(a));
  }

  private base(): Record<string, unknown> {
    return {
      channelId: this.channelId,
      serviceUrl: this.channel.url,
      conversation: { id: this.conversationId },
      from: { id: 'user-1', name: 'User', role: 'user' },
      recipient: { id: 'bot-1', name: 'Bot', role: 'bot' },
      locale: this.locale,
      timestamp: new Date().toISOString(),
      id: randomUUID(),
    };
  }

  async post(activity: Record<string, unknown>): Promise<Response> {
    const before = this.channel.received.length;
    const res = await fetch(`${this.botUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...this.base(), ...activity }),
    });
    // CloudAdapter answers only after the turn's reply POSTs finished, so these are this turn's replies
    // (plus, rarely, a proactive message that raced in; tests look for those by content).
    for (const a of this.channel.received.slice(before)) if (a.conversation.id === this.conversationId && a.replyToId === activity.id) this.answers.add(a);
    return res;
  }

  async join(): Promise<Response> {
    return this.post({ type: 'conversationUpdate', membersAdded: [{ id: 'bot-1', name: 'Bot' }, { id: 'user-1', name: 'User' }] });
  }

  /** Sends a message and returns the replies the channel received for it. */
  async say(text: string): Promise<ReceivedActivity[]> {
    const id = randomUUID();
    const res = await this.post({ type: 'message', text, id });
    if (res.status !== 200) throw new Error(`bot answered ${res.status}: ${await res.text()}`);
    return this.channel.received.filter((a) => a.replyToId === id && this.answers.has(a));
  }
}
