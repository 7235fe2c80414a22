import { join } from 'node:path';
import { EmbeddedOperatorBackend } from './adapters/embedded-operator-backend.js';
import { EmbeddedSmsGateway } from './adapters/embedded-sms-gateway.js';
import { HttpOperatorBackend } from './adapters/http-operator-backend.js';
import { HttpSmsGateway } from './adapters/http-sms-gateway.js';
import type { OperatorBackend } from './adapters/operator-backend.js';
import type { SmsGateway, SmsOutbox } from './adapters/sms-gateway.js';
import { JsonDirectLineStore } from './channels/directline/conversation-store.js';
import { createChannelServer, type ChannelServer, type DevTools } from './channels/server.js';
import type { Config } from './config.js';
import { loadCatalogue, translatedLocales } from './domain/catalogue.js';
import { loadDataNames } from './i18n/data-names.js';
import type { Catalogue } from './domain/types.js';
import { I18n } from './i18n/i18n.js';
import { loadLocaleRequests } from './i18n/locale-request.js';
import { createLogger, type Logger } from './log.js';
import { createNlu } from './nlu/index.js';
import type { Nlu } from './nlu/nlu.js';
import { DATA_ASSETS_DIR, LOCALES_DIR } from './paths.js';
import { IdentityVerifier } from './runtime/identity-verifier.js';
import { StatusNotifier } from './runtime/status-notifier.js';
import { SlaWatchdog } from './runtime/sla-watchdog.js';
import { LowdbSlaStore } from './store/lowdb-sla-store.js';
import { HandoffService, type ConversationPort } from './handoff/handoff-service.js';
import { LowdbHandoffStore, type HandoffStore } from './handoff/handoff-store.js';
import { loadHandoffPhrases } from './handoff/phrases.js';
import { FileTranscriptStore, type TranscriptStore } from './store/transcript-store.js';
import { FileAuditLog } from './store/audit-log.js';
import { checkDataDir, recordDataDir } from './store/data-dir.js';
import { PromMetrics } from './adapters/prom-metrics.js';
import { LowdbFilingOutbox } from './store/filing-outbox.js';
import { MAX_ATTEMPTS, TurnRunner } from './runtime/turn-runner.js';
import { LowdbBotStore } from './store/lowdb-bot-store.js';
import type { BotStore } from './store/stores.js';

/** How often conversations past RETENTION_DAYS are looked for. */
const RETENTION_SWEEP_MS = 6 * 3_600_000;

/** Parts a test may replace; everything else is built from config. */
export interface AppOverrides {
  backend?: OperatorBackend;
  sms?: SmsGateway & Partial<SmsOutbox>;
  store?: BotStore;
  nlu?: Nlu;
  logger?: Logger;
  now?: () => number;
}

export interface App {
  config: Config;
  runner: TurnRunner;
  backend: OperatorBackend;
  sms: SmsGateway;
  store: BotStore;
  handoff: HandoffService;
  handoffStore: HandoffStore;
  transcripts: TranscriptStore;
  notifier: StatusNotifier;
  watchdog: SlaWatchdog;
  channel: ChannelServer;
  i18n: I18n;
  logger: Logger;
  /** Starts background work and listens; resolves with the bound port. */
  start(): Promise<number>;
  /** Graceful stop: finish turns in flight, stop timers, flush and close the stores. Idempotent. */
  stop(): Promise<void>;
}

/** Builds the whole object graph from config. The one place concrete adapters are constructed. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const now = overrides.now ?? Date.now;
  const locales = translatedLocales();
  const catalogue: Catalogue = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'), locales);
  // Service, account and channel names from data are shown in the reply's locale (catalogue names, data/display-names.json).
  const i18n = new I18n(LOCALES_DIR, loadDataNames(catalogue, locales));
  const dev: DevTools = {};

  let backend: OperatorBackend;
  if (overrides.backend) {
    backend = overrides.backend;
  } else if (config.backend.kind === 'embedded') {
    const embedded = new EmbeddedOperatorBackend({
      file: join(config.dataDir, 'operator.json'),
      catalogue,
      seedFile: config.backend.seedFile ?? join(DATA_ASSETS_DIR, 'demo-subscribers.json'),
      statusDelayMs: config.backend.statusDelayMs,
      stallServiceIds: config.backend.stallServiceIds,
      now: () => new Date(now()),
      logger,
    });
    dev.listSubscribers = () => embedded.listSubscribers();
    backend = embedded;
  } else {
    const b = config.backend;
    backend = new HttpOperatorBackend({ baseUrl: b.url, apiKey: b.apiKey, timeoutMs: b.timeoutMs, retries: b.retries, backoffMs: 200, logger });
  }

  let sms: SmsGateway;
  if (overrides.sms) {
    sms = overrides.sms;
    if (overrides.sms.list) dev.outbox = overrides.sms as SmsOutbox;
  } else if (config.sms.kind === 'embedded') {
    const embedded = new EmbeddedSmsGateway({ file: join(config.dataDir, 'sms-outbox.jsonl'), logger, now: () => new Date(now()) });
    dev.outbox = embedded;
    sms = embedded;
  } else {
    const s = config.sms;
    sms = new HttpSmsGateway({ url: s.url, apiKey: s.apiKey, timeoutMs: s.timeoutMs, retries: s.retries, backoffMs: 200, logger });
  }

  checkDataDir(config.dataDir);
  // What is opened before start-up fails must be closed again (file handles, data-file locks).
  const opened: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(resource: T): T => { opened.push(resource); return resource; };
  try {
    const store = overrides.store ?? track(await LowdbBotStore.open(config.dataDir));
    const nlu = overrides.nlu ?? createNlu(catalogue);
    const verifier = new IdentityVerifier({
      store, sms, backend, t: i18n.t, now,
      settings: { ...config.verification, maxAttempts: MAX_ATTEMPTS },
    });
    const transcripts = new FileTranscriptStore(config.dataDir);
    const audit = new FileAuditLog(join(config.dataDir, 'audit.jsonl'), now);
    // The self-hosted Direct Line channel is off with a MicrosoftAppId: Azure Bot Service provides one (docs/directline.md).
    const directLineStore = config.bot.appId ? undefined : track(await JsonDirectLineStore.open(join(config.dataDir, 'directline.json')));
    const handoffStore = track(await LowdbHandoffStore.open(config.dataDir));
    const outbox = track(await LowdbFilingOutbox.open(config.dataDir));
    // The handoff service and the runner need each other: the port forwards to the runner built next.
    const port: ConversationPort = {
      deliver: (...args) => runner.deliver(...args),
      resetDialog: (id) => runner.resetDialog(id),
    };
    const handoff = new HandoffService({ store: handoffStore, conversations: port, logger, now, settings: config.handoff, audit });
    const metrics = new PromMetrics({
      handoffOpen: async () => {
        const open = await handoffStore.listOpen();
        return { waiting: open.filter((t) => t.status === 'pending').length, withAgent: open.filter((t) => t.status === 'assigned').length };
      },
    });
    const runner: TurnRunner = new TurnRunner({
      store, transcripts, audit, outbox, handoff, phrases: loadHandoffPhrases(), nlu, backend, verifier, i18n, logger, now,
      dialogTimeoutMs: config.dialogTimeoutMinutes * 60_000,
      maxMessageChars: config.maxMessageChars,
      handoffHoursText: config.handoff.hoursText,
      undoWindowMinutes: config.undoWindowMinutes,
      localeRequest: loadLocaleRequests(),
      channelHistory: directLineStore,
      metrics,
    });
    if (!directLineStore) logger.info('Direct Line channel and web chat page are off because MicrosoftAppId is set');
    const directLine = directLineStore && { store: directLineStore, secret: config.directLine.secret };
    const channel = createChannelServer({ config, runner, backend, i18n, logger, dev, handoff, handoffStore, transcripts, directLine, metrics });
    runner.attachSender(channel.sender);
    const slaStore = track(await LowdbSlaStore.open(config.dataDir));
    const watchdog = new SlaWatchdog({
      catalogue, handoff, conversations: port, sla: slaStore, logger, now, timeScale: config.slaTimeScale,
    });
    const notifier = new StatusNotifier({ store, backend, i18n, sender: channel.sender, logger, pollMs: config.statusPollMs, pollBatch: config.statusPollBatch, audit, onOpenRequest: (request, conversationId) => watchdog.check(request, conversationId) });

    let stopping: Promise<void> | undefined;
    let outboxTimer: NodeJS.Timeout | undefined;
    let retentionTimer: NodeJS.Timeout | undefined;
    let retentionRun: Promise<unknown> | undefined;
    let outboxRun: Promise<void> | undefined;
    return {
      config, runner, backend, sms, store, handoff, handoffStore, transcripts, notifier, watchdog, channel, i18n, logger,
      async start() {
        await backend.start();
        await transcripts.warm();
        const bound = await channel.listen(config.port, config.host);
        recordDataDir(config.dataDir);
        // The filing outbox worker: confirmed requests the back end has not taken yet (after an outage or a crash).
        const retry = () => { outboxRun ??= runner.retryPendingFilings().finally(() => { outboxRun = undefined; }); };
        outboxTimer = setInterval(retry, config.statusPollMs);
        outboxTimer.unref();
        retry();
        // Conversations past the retention period, a batch every six hours (a walk over every stored conversation, kept off the turns' path).
        if (config.retentionDays > 0) {
          const expire = () => {
            retentionRun ??= runner.expireConversations(config.retentionDays)
              .catch((error: unknown) => logger.error('retention sweep failed', { error }))
              .finally(() => { retentionRun = undefined; });
          };
          retentionTimer = setInterval(expire, RETENTION_SWEEP_MS);
          retentionTimer.unref();
        }
        notifier.start();
        handoff.start();
        return bound;
      },
      stop() {
        stopping ??= (async () => {
          await channel.close(config.shutdownGraceMs);
          clearInterval(outboxTimer);
          clearInterval(retentionTimer);
          await outboxRun;
          await retentionRun;
          await notifier.stop();
          handoff.stop();
          await backend.close();
          await sms.close();
          await store.close();
          await directLineStore?.close();
          await handoffStore.close();
          await slaStore.close();
          await outbox.close();
          await transcripts.close();
          await audit.close();
          // Files created during the run (the audit log, the SMS outbox) are expected next time too.
          recordDataDir(config.dataDir);
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
    throw err;
  }
}
