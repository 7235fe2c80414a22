import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';

type Base = ConfigurationBotFrameworkAuthentication;
type ClaimsIdentity = Parameters<Base['createConnectorFactory']>[0];
type ConnectorFactory = ReturnType<Base['createConnectorFactory']>;
type ConnectorClient = Awaited<ReturnType<ConnectorFactory['create']>>;
type AuthenticateRequestResult = Awaited<ReturnType<Base['authenticateRequest']>>;

/** Connector clients kept, least recently used dropped first: one per app id, service URL and audience. */
const MAX_CLIENTS = 256;

/**
 * Bot Framework authentication whose connector factories hand out one ConnectorClient per app id,
 * service URL and audience instead of a new one per turn.
 *
 * CloudAdapter gets a connector client on every turn (from the factory that authenticateRequest
 * returns) and for every proactive message (from createConnectorFactory), and a new client builds
 * its whole HTTP pipeline and credentials object: at the bench's load that was about 4 % of the
 * bot's CPU. A client holds no per-turn state (its credentials fetch and refresh their own token),
 * so sharing it is safe.
 */
export class CachingBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly clients = new Map<string, Promise<ConnectorClient>>();

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
    // The app id the factory stands for, read as botbuilder reads it: the audience claim, else the
    // app id claim (the Emulator's); none for an unauthenticated local call.
    const appId = claimsIdentity.getClaimValue('aud') ?? claimsIdentity.getClaimValue('appid') ?? '';
    return {
      create: (serviceUrl: string, audience?: string): Promise<ConnectorClient> => {
        const key = `${appId}\n${serviceUrl}\n${audience ?? ''}`;
        const found = this.clients.get(key);
        if (found) {
          this.clients.delete(key);
          this.clients.set(key, found);
          return found;
        }
        const created = inner.create(serviceUrl, audience);
        this.clients.set(key, created);
        // A failed creation is not kept: the next call tries again.
        created.catch(() => { if (this.clients.get(key) === created) this.clients.delete(key); });
        if (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
        return created;
      },
    } as ConnectorFactory;
  }
}
