import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';
import { PROJECT_ROOT } from './paths.js';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const optionalString = z.string().trim().optional().transform((v) => (v ? v : undefined));

const schema = z.object({
  PORT: int(3978, 0),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('.data'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  MicrosoftAppId: optionalString,
  MicrosoftAppPassword: optionalString,
  MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  MicrosoftAppTenantId: optionalString,
  MAX_BODY_BYTES: int(262_144, 1024),
  MAX_MESSAGE_CHARS: int(2000, 10),
  OPS_TOKEN: optionalString,
  BACKEND: z.enum(['embedded', 'http']).default('embedded'),
  OPERATOR_API_URL: optionalString,
  OPERATOR_API_KEY: optionalString,
  OPERATOR_API_TIMEOUT_MS: int(5000, 1),
  OPERATOR_API_RETRIES: int(2, 0),
  EMBEDDED_STATUS_DELAY_MS: int(5000, 0),
  EMBEDDED_STALL_SERVICES: z.string().default(''),
  SLA_TIME_SCALE: z.coerce.number().positive().default(1),
  EMBEDDED_SEED_FILE: optionalString,
  SMS: z.enum(['embedded', 'http']).default('embedded'),
  SMS_API_URL: optionalString,
  SMS_API_KEY: optionalString,
  CODE_TTL_SECONDS: int(300, 1),
  CODE_RESEND_SECONDS: int(60, 0),
  CODE_MAX_PER_HOUR: int(5, 1),
  CODE_MAX_PER_CONVERSATION_HOUR: int(6, 1),
  VERIFY_LOCK_MINUTES: int(30, 1),
  DIALOG_TIMEOUT_MINUTES: int(30, 1),
  UNDO_WINDOW_MINUTES: int(10, 0),
  RETENTION_DAYS: int(180, 0),
  STATUS_POLL_MS: int(2000, 10),
  STATUS_POLL_BATCH: int(200, 1),
  SHUTDOWN_GRACE_MS: int(10_000, 0),
  DIRECTLINE_SECRET: optionalString,
  AGENTS: optionalString,
  HANDOFF_MODE: z.enum(['console', 'external']).default('console'),
  HANDOFF_HOURS: z.string().regex(/^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/, 'HH:MM-HH:MM (Beijing time)').default('08:00-22:00'),
  HANDOFF_AVG_MINUTES: z.coerce.number().positive().default(3),
  HANDOFF_EXPIRE_MINUTES: int(15, 1),
  HANDOFF_ROUTES: z.string().default('broadband:broadband,number:closure'),
  HTTPS_PROXY: optionalString,
  https_proxy: optionalString,
  HTTP_PROXY: optionalString,
  http_proxy: optionalString,
  NO_PROXY: optionalString,
  no_proxy: optionalString,
});

export type Env = z.input<typeof schema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Bot Framework credentials; all undefined locally (no auth, the Emulator path). */
  bot: { appId?: string; appPassword?: string; appType: string; tenantId?: string };
  /** The proxy for the bot's replies to the channels (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as curl reads them); none when unset. */
  proxy?: { https?: string; http?: string; noProxy?: string };
  maxBodyBytes: number;
  maxMessageChars: number;
  /** Bearer token for /api/requests; the API is off when unset. */
  opsToken?: string;
  backend: { kind: 'embedded'; statusDelayMs: number; seedFile?: string; stallServiceIds: string[] } | { kind: 'http'; url: string; apiKey?: string; timeoutMs: number; retries: number };
  sms: { kind: 'embedded' } | { kind: 'http'; url: string; apiKey?: string; timeoutMs: number; retries: number };
  verification: { codeTtlSeconds: number; resendSeconds: number; maxPerHour: number; maxPerConversationHour: number; lockMinutes: number };
  dialogTimeoutMinutes: number;
  /** Minutes after filing during which the user can undo; closing a number is held that long. 0: off. */
  undoWindowMinutes: number;
  /** Days after its last message that a conversation's transcript and dialog are deleted; 0 keeps them. */
  retentionDays: number;
  statusPollMs: number;
  /** Open requests checked per status sweep at most (round robin over all of them). */
  statusPollBatch: number;
  /** SLA deadlines are catalogue hours divided by this (tests and demos shorten them). */
  slaTimeScale: number;
  shutdownGraceMs: number;
  /** The self-hosted Direct Line channel (docs/directline.md); without a secret only per-conversation tokens get in. */
  directLine: { secret?: string };
  handoff: {
    /** console: the built-in queue and /agent; external: Bot Framework handoff events to an existing agent hub. */
    mode: 'console' | 'external';
    /** Agents who may log in to /agent: id, bearer token and the queues they serve (empty: all). */
    agents: { id: string; token: string; skills: string[] }[];
    /** True when AGENTS was unset and one demo agent with a random token was made up. */
    generatedAgent: boolean;
    hoursText: string;
    hours: { start: number; end: number };
    avgHandleMinutes: number;
    expireMinutes: number;
    routes: Record<string, string>;
  };
}

/**
 * The only reader of process.env. Loads `.env` from the project root when present (without
 * overriding variables already set), validates everything and lists every problem at once.
 * Throws AppError 'config.invalid'.
 */
export function loadConfig(env: NodeJS.ProcessEnv | Env = process.env, options: { dotenv?: boolean } = {}): Config {
  if (options.dotenv !== false && env === process.env) {
    const file = join(PROJECT_ROOT, '.env');
    if (existsSync(file)) process.loadEnvFile(file);
  }
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new AppError('config.invalid', { message: `invalid configuration:\n  ${problems.join('\n  ')}` });
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.BACKEND === 'http' && !e.OPERATOR_API_URL) problems.push('OPERATOR_API_URL is required when BACKEND=http');
  if (e.SMS === 'http' && !e.SMS_API_URL) problems.push('SMS_API_URL is required when SMS=http');
  if (e.MicrosoftAppId && !e.MicrosoftAppPassword && e.MicrosoftAppType !== 'UserAssignedMSI') {
    problems.push('MicrosoftAppPassword is required when MicrosoftAppId is set');
  }
  if (e.MicrosoftAppType === 'SingleTenant' && e.MicrosoftAppId && !e.MicrosoftAppTenantId) {
    problems.push('MicrosoftAppTenantId is required for MicrosoftAppType=SingleTenant');
  }
  const agents = parseAgents(e.AGENTS, problems);
  const routes = Object.fromEntries(e.HANDOFF_ROUTES.split(',').map((p) => p.trim()).filter(Boolean).map((p) => p.split(':').map((x) => x.trim()) as [string, string]));
  const [startText, endText] = e.HANDOFF_HOURS.split('-') as [string, string];
  const minutes = (hhmm: string) => { const [h, m] = hhmm.split(':').map(Number) as [number, number]; return h * 60 + m; };
  if (e.DIRECTLINE_SECRET && e.DIRECTLINE_SECRET.length < 32) problems.push('DIRECTLINE_SECRET must be at least 32 characters');
  if (problems.length > 0) {
    throw new AppError('config.invalid', { message: `invalid configuration:\n  ${problems.join('\n  ')}` });
  }
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    dataDir: isAbsolute(e.DATA_DIR) ? e.DATA_DIR : resolve(PROJECT_ROOT, e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    bot: { appId: e.MicrosoftAppId, appPassword: e.MicrosoftAppPassword, appType: e.MicrosoftAppType, tenantId: e.MicrosoftAppTenantId },
    ...proxyOf(e),
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxMessageChars: e.MAX_MESSAGE_CHARS,
    opsToken: e.OPS_TOKEN,
    backend: e.BACKEND === 'http'
      ? { kind: 'http', url: e.OPERATOR_API_URL!, apiKey: e.OPERATOR_API_KEY, timeoutMs: e.OPERATOR_API_TIMEOUT_MS, retries: e.OPERATOR_API_RETRIES }
      : {
        kind: 'embedded',
        statusDelayMs: e.EMBEDDED_STATUS_DELAY_MS,
        stallServiceIds: e.EMBEDDED_STALL_SERVICES.split(',').map((x) => x.trim()).filter(Boolean),
        seedFile: e.EMBEDDED_SEED_FILE === undefined ? undefined : isAbsolute(e.EMBEDDED_SEED_FILE) ? e.EMBEDDED_SEED_FILE : resolve(PROJECT_ROOT, e.EMBEDDED_SEED_FILE),
      },
    sms: e.SMS === 'http'
      ? { kind: 'http', url: e.SMS_API_URL!, apiKey: e.SMS_API_KEY, timeoutMs: e.OPERATOR_API_TIMEOUT_MS, retries: e.OPERATOR_API_RETRIES }
      : { kind: 'embedded' },
    verification: { codeTtlSeconds: e.CODE_TTL_SECONDS, resendSeconds: e.CODE_RESEND_SECONDS, maxPerHour: e.CODE_MAX_PER_HOUR, maxPerConversationHour: e.CODE_MAX_PER_CONVERSATION_HOUR, lockMinutes: e.VERIFY_LOCK_MINUTES },
    dialogTimeoutMinutes: e.DIALOG_TIMEOUT_MINUTES,
    undoWindowMinutes: e.UNDO_WINDOW_MINUTES,
    retentionDays: e.RETENTION_DAYS,
    statusPollMs: e.STATUS_POLL_MS,
    statusPollBatch: e.STATUS_POLL_BATCH,
    slaTimeScale: e.SLA_TIME_SCALE,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    directLine: { secret: e.DIRECTLINE_SECRET },
    handoff: {
      mode: e.HANDOFF_MODE,
      agents: agents ?? [{ id: 'demo', token: randomBytes(18).toString('base64url'), skills: [] }],
      generatedAgent: agents === undefined,
      hoursText: e.HANDOFF_HOURS,
      hours: { start: minutes(startText), end: minutes(endText) },
      avgHandleMinutes: e.HANDOFF_AVG_MINUTES,
      expireMinutes: e.HANDOFF_EXPIRE_MINUTES,
      routes,
    },
  };
  return Object.freeze(config);
}

/** AGENTS="alice:token-a:general|broadband,bob:token-b" → agents; undefined when unset. */
function parseAgents(value: string | undefined, problems: string[]): Config['handoff']['agents'] | undefined {
  if (!value) return undefined;
  const agents = value.split(',').map((x) => x.trim()).filter(Boolean).map((entry) => {
    const [id = '', token = '', skills = ''] = entry.split(':');
    if (!/^[\w.-]{1,32}$/.test(id) || token.length < 16) problems.push(`AGENTS entry "${id}": needs id:token with a token of at least 16 characters`);
    return { id, token, skills: skills.split('|').map((s) => s.trim()).filter(Boolean) };
  });
  if (new Set(agents.map((a) => a.token)).size !== agents.length) problems.push('AGENTS: every agent needs a distinct token');
  return agents;
}

/** The proxy settings, the lower-case names first as curl reads them; nothing when no proxy is set. */
function proxyOf(e: z.output<typeof schema>): { proxy?: Config['proxy'] } {
  const https = e.https_proxy ?? e.HTTPS_PROXY;
  const http = e.http_proxy ?? e.HTTP_PROXY;
  const noProxy = e.no_proxy ?? e.NO_PROXY;
  if (!https && !http) return {};
  return { proxy: { ...(https ? { https } : {}), ...(http ? { http } : {}), ...(noProxy ? { noProxy } : {}) } };
}
