import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import Negotiator from 'negotiator';
import type restify from 'restify';
import { DEFAULT_LOCALE, type I18n } from '../../i18n/i18n.js';
import type { Logger } from '../../log.js';
import { PROJECT_ROOT } from '../../paths.js';
import type { DirectLineChannel } from '../directline/directline-channel.js';

const ASSETS_DIR = join(PROJECT_ROOT, 'src', 'channels', 'webchat', 'assets');

// The page loads only same-origin scripts; Web Chat injects its styles at run time (emotion).
const PAGE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
  "font-src 'self' data:", "media-src 'self' data: blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
  "frame-ancestors 'self'",
].join('; ');

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  etag: string;
  type: string;
}

/**
 * The web chat page: GET / (the official Web Chat, talking to this server's Direct Line) in the
 * locale of `?locale=`, else of the browser's Accept-Language (zh-HK/zh-Hant → zh-TW, any English →
 * en-US), else the default;
 * its static files under /webchat/, the Web Chat bundle served from node_modules (no CDN), and
 * POST /webchat/token, which mints a token for a new conversation, or, given the token of a
 * conversation that still exists (Authorization: Bearer), a fresh one for it (a reloaded page resumes).
 * The page's text comes from the `webchat.*` locale keys: `{{key}}` in index.html is replaced, escaped,
 * and `{{locale}}` by the locale name (chat.js hands it to Web Chat, which sends it on every activity).
 */
export function mountWebChat(server: restify.Server, deps: { channel: DirectLineChannel; i18n: I18n; logger: Logger }): void {
  const { channel, i18n, logger } = deps;
  const cache = new Map<string, Promise<Asset | undefined>>();

  const asset = (name: string, load: () => Promise<Buffer | undefined>, type: string): Promise<Asset | undefined> => {
    let loaded = cache.get(name);
    if (!loaded) {
      loaded = (async () => {
        const body = await load();
        if (!body) return undefined;
        return { body, gzipped: await promisify(gzip)(body), etag: `"${createHash('sha1').update(body).digest('base64url')}"`, type };
      })();
      loaded.catch(() => cache.delete(name));
      cache.set(name, loaded);
    }
    return loaded;
  };

  const serve = (name: string, load: () => Promise<Buffer | undefined>, type: string, cacheControl: string, extra: Record<string, string> = {}) =>
    async (req: restify.Request, res: restify.Response) => {
      const found = await asset(name, load, type).catch((error: unknown) => {
        logger.error('web chat asset unreadable', { name, error });
        return undefined;
      });
      if (!found) {
        res.send(503, { error: `${name} is not available; run npm install` });
        return;
      }
      const headers: Record<string, string> = {
        'Content-Type': found.type, 'Cache-Control': cacheControl, ETag: found.etag, Vary: 'Accept-Encoding',
        'X-Content-Type-Options': 'nosniff', ...extra,
      };
      if (req.header('if-none-match') === found.etag) return void res.sendRaw(304, '', headers);
      const gzipOk = /\bgzip\b/.test(req.header('accept-encoding') ?? '');
      if (gzipOk) headers['Content-Encoding'] = 'gzip';
      res.sendRaw(200, gzipOk ? found.gzipped : found.body, headers);
    };

  const renderPage = (locale: string) => async () => {
    const template = await readFile(join(ASSETS_DIR, 'index.html'), 'utf8');
    return Buffer.from(template.replace(/\{\{([\w.]+)\}\}/g, (_m, key: string) => escapeHtml(key === 'locale' ? locale : i18n.t(key, {}, locale))));
  };
  const pages = new Map(i18n.locales.map((locale) => [locale, serve(`index.${locale}.html`, renderPage(locale), 'text/html; charset=utf-8', 'no-cache', {
    'Content-Security-Policy': PAGE_CSP, 'Referrer-Policy': 'no-referrer', 'Content-Language': locale, Vary: 'Accept-Encoding, Accept-Language',
  })]));
  server.get('/', async (req: restify.Request, res: restify.Response) => pages.get(pageLocale(req, i18n))!(req, res));
  server.get('/webchat/chat.js', serve('chat.js', fileAt(() => join(ASSETS_DIR, 'chat.js')), 'text/javascript; charset=utf-8', 'no-cache'));
  server.get('/webchat/chat.css', serve('chat.css', fileAt(() => join(ASSETS_DIR, 'chat.css')), 'text/css; charset=utf-8', 'no-cache'));
  server.get('/webchat/webchat.js', serve('webchat.js', fileAt(webChatBundle), 'text/javascript; charset=utf-8', 'public, max-age=86400'));

  server.post('/webchat/token', async (req: restify.Request, res: restify.Response) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.header('authorization') ?? '')?.[1];
    const resumed = presented ? channel.resumeForPage(presented) : undefined;
    res.setHeader('Cache-Control', 'no-store');
    res.send(200, resumed ? { ...resumed, resumed: true } : { ...channel.mintForPage(), resumed: false });
  });
}

/** Reads a file when first asked for; undefined when there is none (e.g. botframework-webchat not installed). */
function fileAt(locate: () => string | undefined): () => Promise<Buffer | undefined> {
  return async () => {
    const path = locate();
    return path && existsSync(path) ? readFile(path) : undefined;
  };
}

/** The page's locale: `?locale=`, else the most preferred Chinese or English language the browser accepts, else the default. */
function pageLocale(req: restify.Request, i18n: I18n): string {
  const asked = new URL(req.url ?? '/', 'http://page').searchParams.get('locale');
  if (asked) return i18n.resolve(asked);
  const preferred = new Negotiator({ headers: { 'accept-language': req.header('accept-language') ?? '' } }).languages();
  const usable = preferred.find((tag) => /^(zh|en)\b/i.test(tag));
  return usable ? i18n.resolve(usable) : DEFAULT_LOCALE;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** dist/webchat.js of the installed botframework-webchat package (its exports map hides dist/). */
function webChatBundle(): string | undefined {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve('botframework-webchat'));
    const isPackageRoot = (d: string) => existsSync(join(d, 'package.json'))
      && (JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string }).name === 'botframework-webchat';
    while (!isPackageRoot(dir)) {
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
    return join(dir, 'dist', 'webchat.js');
  } catch {
    return undefined;
  }
}
