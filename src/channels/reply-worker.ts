/**
 * The reply thread (see reply-thread.ts): carries out connector calls with ConnectorRestClient, one
 * per app id, service URL and audience, authorised by botbuilder's credentials for them, and
 * answers each request by id.
 */
import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { OutgoingActivity, ReplyAnswer, ReplyRequest, ReplyThreadSettings } from './reply-thread.js';
import { appIdOf, CachingBotFrameworkAuthentication } from './connector-cache.js';
import { oncePerPass } from '../store/append-file.js';
import { connectorDispatcher, ConnectorRestClient, signedAuthorization, type RequestSigner } from './connector-rest.js';

const settings = workerData as ReplyThreadSettings;
const auth = new CachingBotFrameworkAuthentication({ ...settings.credentials });
const dispatcher = connectorDispatcher(settings.retry, settings.proxy);
type ClaimsIdentity = Parameters<CachingBotFrameworkAuthentication['createConnectorFactory']>[0];

/** The turn's claims as botbuilder reads them (only the app id is read from them to build a client). */
function claimsIdentity(claims: { type: string; value: string }[]): ClaimsIdentity {
  return {
    claims,
    isAuthenticated: claims.length > 0,
    getClaimValue: (type: string) => claims.find((c) => c.type === type)?.value ?? null,
  } as unknown as ClaimsIdentity;
}

/** One connector factory per app id (the clients behind it are kept by `auth`), not one per activity. */
const factories = new Map<string, ReturnType<CachingBotFrameworkAuthentication['createConnectorFactory']>>();

type BotClient = Awaited<ReturnType<ReturnType<CachingBotFrameworkAuthentication['createConnectorFactory']>['create']>>;

/** The REST client beside each of botbuilder's clients, dropped with it (`auth` keeps a bounded number). */
const clients = new WeakMap<BotClient, ConnectorRestClient>();

/**
 * The client for `key`. botbuilder builds its connector client for the key (and so the
 * credentials, their token cache and refresh) once and keeps it (connector-cache.ts); every call
 * asks those credentials for the Authorization header, which they answer from their cache.
 */
async function clientFor(key: ReplyRequest['key']): Promise<ConnectorRestClient> {
  const identity = claimsIdentity(key.claims);
  const appId = appIdOf(identity);
  let factory = factories.get(appId);
  if (!factory) {
    factory = auth.createConnectorFactory(identity);
    factories.set(appId, factory);
  }
  const botClient = await factory.create(key.serviceUrl, key.audience);
  let client = clients.get(botClient);
  if (!client) {
    const credentials = botClient.credentials as unknown as RequestSigner;
    client = new ConnectorRestClient(key.serviceUrl, dispatcher, () => signedAuthorization(credentials));
    clients.set(botClient, client);
  }
  return client;
}

type Answer = { id?: string } | undefined;

/** Syncs asked for and not started yet, by file. */
const scheduled = new Map<string, Promise<void>>();

/**
 * Makes `files` durable. Each file is synced once this thread has taken in every request that is
 * ready now (oncePerPass), one sync for all of them: the filing turns that arrive together share
 * their syncs, and the sends of that pass are under way before they start.
 */
function syncFiles(files: string[]): Promise<void> {
  return Promise.all(files.map((file) => oncePerPass(scheduled, file, () => syncFile(file)))).then(() => undefined);
}

/**
 * fdatasync of one file through a descriptor of its own (a sync flushes the file, whoever wrote
 * it), opened by name each time so that a file replaced under the same name is the one synced. A
 * file that is gone was folded into another by compaction, which made that one durable itself.
 *
 * Synchronous on purpose: each asynchronous fs call wakes a pool thread and then this thread again,
 * three per file here, and on the bench machine those wake-ups cost more CPU than the calls (an
 * fdatasync takes about 0.25 ms there): doing them on this thread took about 5 % off the bot's CPU
 * per turn. The price is that this thread sends nothing while a pass's syncs run (a filing turn's
 * five files, about a millisecond); a disk that stalls stalls the replies after them too.
 */
function syncFile(file: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve();
    return Promise.reject(err);
  }
  try {
    fdatasyncSync(fd);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  } finally {
    closeSync(fd);
  }
}

async function carryOut(request: ReplyRequest): Promise<Answer | Answer[]> {
  // The turn's durable writes first: nothing is sent before what it tells is on disk.
  if (request.sync) await syncFiles(request.sync);
  if (request.op === 'sync') return undefined;
  const c = await clientFor(request.key);
  if (request.op === 'sendAll') {
    const answers: Answer[] = [];
    for (const { conversationId, replyToId, activity } of request.args[0] as OutgoingActivity[]) {
      const response = replyToId
        ? await c.replyToActivity(conversationId, replyToId, activity)
        : await c.sendToConversation(conversationId, activity);
      answers.push(response);
    }
    return answers;
  }
  const [conversationId, second, third] = request.args as [string, unknown, unknown];
  let response: Answer;
  switch (request.op) {
    case 'replyToActivity': response = await c.replyToActivity(conversationId, second as string, third); break;
    case 'sendToConversation': response = await c.sendToConversation(conversationId, second); break;
    case 'updateActivity': response = await c.updateActivity(conversationId, second as string, third); break;
    case 'deleteActivity': await c.deleteActivity(conversationId, second as string); return undefined;
  }
  return response;
}

/** The conversation a request sends to (none for a bare sync). */
function conversationOf(request: ReplyRequest): string | undefined {
  if (request.op === 'sync') return undefined;
  if (request.op === 'sendAll') return (request.args[0] as OutgoingActivity[])[0]?.conversationId;
  return request.args[0] as string;
}

/** The last request of each conversation still in progress. */
const tails = new Map<string, Promise<unknown>>();

/**
 * Carries out the requests of one conversation one after another, in the order they came: a reply
 * waiting for its turn's syncs is not overtaken by the conversation's next one.
 */
function inOrder(request: ReplyRequest): Promise<Answer | Answer[]> {
  const conversation = conversationOf(request);
  if (conversation === undefined) return carryOut(request);
  const before = tails.get(conversation);
  const run = before ? before.then(() => carryOut(request)) : carryOut(request);
  const tail = run.catch(() => undefined).then(() => {
    if (tails.get(conversation) === tail) tails.delete(conversation);
  });
  tails.set(conversation, tail);
  return run;
}

parentPort!.on('message', (request: ReplyRequest) => {
  inOrder(request).then(
    (value) => parentPort!.postMessage({ id: request.id, ok: true, value } satisfies ReplyAnswer),
    (err: unknown) => {
      const e = err as { name?: unknown; message?: unknown; code?: unknown; statusCode?: unknown };
      parentPort!.postMessage({
        id: request.id,
        ok: false,
        error: {
          name: typeof e?.name === 'string' ? e.name : 'Error',
          message: typeof e?.message === 'string' ? e.message : String(err),
          ...(typeof e?.code === 'string' ? { code: e.code } : {}),
          ...(typeof e?.statusCode === 'number' ? { statusCode: e.statusCode } : {}),
        },
      } satisfies ReplyAnswer);
    },
  );
});
