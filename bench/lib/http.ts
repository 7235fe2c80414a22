import { Agent, request as httpRequest } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

/** One keep-alive agent per target, sized for the number of concurrent conversations. */
const agents = new Map<string, Agent>();

export function agentFor(origin: string, sockets = 64): Agent {
  let agent = agents.get(origin);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: sockets });
    agents.set(origin, agent);
  }
  return agent;
}

export function destroyAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

/** A small HTTP client on node:http (lighter than fetch, so the load generator takes less CPU from the bot). */
export function request(url: string, options: { method: 'GET' | 'POST'; body?: string; timeoutMs?: number }): Promise<HttpResult> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
    const req = httpRequest({
      host: u.hostname,
      port: u.port,
      path: `${u.pathname}${u.search}`,
      method: options.method,
      agent: agentFor(u.origin),
      headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`timeout: ${options.method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}
