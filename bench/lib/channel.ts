import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  text: string;
  state: string | undefined;
  /** performance.now() in this process when the reply POST arrived. */
  at: number;
}

/**
 * The Bot Framework channel as the Emulator runs it: receives replies at
 * POST {serviceUrl}/v3/conversations/{id}/activities/{replyToId} (see test/support/fake-channel.ts)
 * and files them under the activity they answer.
 */
export class BenchChannel {
  private server: Server | undefined;
  private readonly byReplyTo = new Map<string, Reply[]>();
  private seq = 0;
  url = '';
  /** Replies that named no activity they answer (proactive messages). */
  unprompted = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const match = req.method === 'POST' ? /^\/v3\/conversations\/[^/]+\/activities(?:\/([^/?]+))?/.exec(req.url ?? '') : null;
        if (!match) {
          res.writeHead(404).end();
          return;
        }
        const at = performance.now();
        const activity = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { replyToId?: string; text?: string; channelData?: { tuiding?: { state?: string } } };
        const replyTo = activity.replyToId ?? (match[1] ? decodeURIComponent(match[1]) : undefined);
        if (replyTo) {
          const list = this.byReplyTo.get(replyTo) ?? [];
          list.push({ text: activity.text ?? '', state: activity.channelData?.tuiding?.state, at });
          this.byReplyTo.set(replyTo, list);
        } else {
          this.unprompted++;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"id":"r${++this.seq}"}`);
      });
    });
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Takes (and forgets) the replies to one activity. */
  take(activityId: string): Reply[] {
    const list = this.byReplyTo.get(activityId) ?? [];
    this.byReplyTo.delete(activityId);
    return list;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
