import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded call to a fake server. */
export interface RecordedCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/**
 * What the fake does instead of (or after) handling the next matching call:
 * - status: answer with this status and body, without handling the call;
 * - afterHandling: handle the call (so its effect happens), then answer with this status instead;
 * - delay: wait before handling (to provoke client timeouts).
 */
export type Fault =
  | { kind: 'status'; status: number; body?: string; route?: string }
  | { kind: 'afterHandling'; status: number; route?: string }
  | { kind: 'delay'; ms: number; route?: string };

export interface JsonReply {
  status: number;
  body?: unknown;
}

export type Handler = (call: RecordedCall) => Promise<JsonReply>;

/** A node:http server on port 0 with a fault queue and a call log, for adapter tests. */
export class FakeHttpServer {
  readonly calls: RecordedCall[] = [];
  private readonly faults: Fault[] = [];
  private readonly server: Server;
  private readonly pending = new Set<NodeJS.Timeout>();

  private constructor(private readonly handler: Handler) {
    this.server = createServer((req, res) => void this.serve(req, res));
  }

  static async start(handler: Handler): Promise<FakeHttpServer> {
    const fake = new FakeHttpServer(handler);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Queues a fault for the next call (whose "METHOD /path-without-query" starts with route, when given). */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  callsTo(route: string): RecordedCall[] {
    return this.calls.filter((c) => `${c.method} ${c.path}`.startsWith(route));
  }

  async close(): Promise<void> {
    for (const t of this.pending) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const at = this.faults.findIndex((f) => f.route === undefined || `${method} ${path}`.startsWith(f.route));
    return at < 0 ? undefined : this.faults.splice(at, 1)[0];
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const call: RecordedCall = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    this.calls.push(call);
    const fault = this.takeFault(call.method, path);
    try {
      if (fault?.kind === 'status') return send(res, fault.status, fault.body ?? JSON.stringify({ error: { code: 'injected' } }));
      if (fault?.kind === 'delay') {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            this.pending.delete(t);
            resolve();
          }, fault.ms);
          this.pending.add(t);
        });
        if (res.destroyed) return;
      }
      const reply = await this.handler(call);
      if (fault?.kind === 'afterHandling') return send(res, fault.status, JSON.stringify({ error: { code: 'injected' } }));
      send(res, reply.status, reply.body === undefined ? '' : JSON.stringify(reply.body));
    } catch (err) {
      send(res, 500, JSON.stringify({ error: { code: 'fakeServerError', message: (err as Error).message } }));
    }
  }
}

function send(res: ServerResponse, status: number, text: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}
