import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { isAppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { DirectLineChannel } from './directline-channel.js';

const STREAM_PATH = /^\/v3\/directline\/conversations\/([^/?]+)\/stream$/;
/** Empty messages keep proxies from closing an idle stream; clients ignore them (Direct Line 3.0). */
const HEARTBEAT_MS = 30_000;

/**
 * The Direct Line WebSocket stream: GET {streamUrl} upgrades to a socket that receives ActivitySets
 * ({activities, watermark}). The streamUrl carries its own short-lived token (`t`), so the upgrade
 * needs no Authorization header. Returns the function that closes every stream.
 */
export function attachStreams(http: Server, channel: DirectLineChannel, logger: Logger): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = STREAM_PATH.exec(url.pathname);
    if (!match) {
      // Another module may serve this upgrade; refuse only when nobody else listens.
      if (http.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
      return;
    }
    const conversationId = decodeURIComponent(match[1]!);
    try {
      channel.checkStream(conversationId, url.searchParams.get('t') ?? '');
    } catch (err) {
      if (isAppError(err, 'not.found')) return refuse(socket, 404, 'Not Found');
      return refuse(socket, 403, 'Forbidden');
    }
    const watermark = parseWatermark(url.searchParams.get('watermark'));
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      // Clients send empty messages as pings; nothing else is expected from them.
      ws.on('message', () => undefined);
      ws.on('error', (error) => logger.debug('stream socket error', { conversationId, error }));
      const stop = channel.subscribe(conversationId, watermark, (set) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(set));
      });
      ws.on('close', stop);
    });
  };
  http.on('upgrade', onUpgrade);

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
      ws.send('');
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return () => {
    clearInterval(heartbeat);
    http.removeListener('upgrade', onUpgrade);
    for (const ws of wss.clients) ws.close(1001, 'server shutting down');
    wss.close();
  };
}

/** A watermark from a query string: a non-negative integer, or undefined (from the beginning). */
export function parseWatermark(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
