import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import type { ReplyThread } from './reply-thread.js';

type Base = ConfigurationBotFrameworkAuthentication;
type ClaimsIdentity = Parameters<Base['createConnectorFactory']>[0];
type ConnectorFactory = ReturnType<Base['createConnectorFactory']>;
type ConnectorClient = Awaited<ReturnType<ConnectorFactory['create']>>;
type AuthenticateRequestResult = Awaited<ReturnType<Base['authenticateRequest']>>;
type UserTokenClient = Awaited<ReturnType<Base['createUserTokenClient']>>;

/** Connector clients kept, least recently used dropped first: one per app id, service URL and audience. */
const MAX_CLIENTS = 256;

/**
 * Bot Framework authentication whose connector factories hand out one ConnectorClient per app id,
 * service URL and audience, and which hands out one user token client per app id, instead of new
 * ones per turn.
 *
 * CloudAdapter gets a connector client on every turn (from the factory that authenticateRequest
 * returns) and for every proactive message (from createConnectorFactory), and a new client builds
 * its whole HTTP pipeline and credentials object: at the bench's load that was about 4 % of the
 * bot's CPU, and the user token client CloudAdapter also builds for every turn another 4 %. A
 * client holds no per-turn state (its credentials fetch and refresh their own token), so sharing
 * it is safe.
 */
export class CachingBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly clients = new Map<string, Promise<ConnectorClient>>();
  private readonly tokenClients = new Map<string, Promise<UserTokenClient>>();
  private replies: ReplyThread | undefined;

  /** From now on, connector clients send through `thread` (reply-thread.ts) instead of from this thread. */
  sendRepliesThrough(thread: ReplyThread): void {
    this.replies = thread;
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return remember(this.tokenClients, appIdOf(claimsIdentity), () => super.createUserTokenClient(claimsIdentity));
  }

  override async authenticateRequest(...args: Parameters<Base['authenticateRequest']>): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(...args);
    return result.connectorFactory ? { ...result, connectorFactory: this.caching(result.connectorFactory, result.claimsIdentity) } : result;
  }

  override async authenticateStreamingRequest(...args: Parameters<Base['authenticateStreamingRequest']>): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateStreamingRequest(...args);
    return result.connectorFactory ? { ...result, connectorFactory: this.caching(result.connectorFactory, result.claimsIdentity) } : result;
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.caching(super.createConnectorFactory(claimsIdentity), claimsIdentity);
  }

  private caching(inner: ConnectorFactory, claimsIdentity: ClaimsIdentity): ConnectorFactory {
    const appId = appIdOf(claimsIdentity);
    return {
      create: (serviceUrl: string, audience?: string): Promise<ConnectorClient> =>
        remember(this.clients, `${appId}\n${serviceUrl}\n${audience ?? ''}`, async () => {
          const replies = this.replies;
          if (!replies) return inner.create(serviceUrl, audience);
          // CloudAdapter only calls conversations.* on it (send, reply, update, delete).
          const claims = claimsIdentity.claims.map((c) => ({ type: c.type, value: c.value }));
          return { conversations: replies.conversations({ claims, serviceUrl, ...(audience ? { audience } : {}) }) } as unknown as ConnectorClient;
        }),
    } as ConnectorFactory;
  }
}

/**
 * The app id a call stands for, read as botbuilder reads it: the audience claim, else the app id
 * claim (the Emulator's); none for an unauthenticated local call.
 */
export function appIdOf(claimsIdentity: ClaimsIdentity): string {
  return claimsIdentity.getClaimValue('aud') ?? claimsIdentity.getClaimValue('appid') ?? '';
}

/** The value kept under `key`, else made, kept (least recently used dropped first) and returned; a failed one is not kept. */
function remember<V>(cache: Map<string, Promise<V>>, key: string, make: () => Promise<V>): Promise<V> {
  const found = cache.get(key);
  if (found) {
    cache.delete(key);
    cache.set(key, found);
    return found;
  }
  const made = make();
  cache.set(key, made);
  made.catch(() => { if (cache.get(key) === made) cache.delete(key); });
  if (cache.size > MAX_CLIENTS) cache.delete(cache.keys().next().value!);
  return made;
}
