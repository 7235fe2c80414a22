import { pino, type Logger as PinoLogger } from 'pino';
import { maskText, maskValue } from './privacy/mask.js';

/** Structured logger. Every message and field passes through the personal-data mask. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

class MaskingLogger implements Logger {
  constructor(private readonly inner: PinoLogger) {}
  private write(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    // Masking walks every field: skip it for a level that would be dropped anyway (debug, per turn).
    if (!this.inner.isLevelEnabled(level)) return;
    if (fields) this.inner[level](maskValue(serialiseErrors(fields)) as object, maskText(msg));
    else this.inner[level](maskText(msg));
  }
  debug(msg: string, fields?: Record<string, unknown>): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.write('error', msg, fields); }
  child(bindings: Record<string, unknown>): Logger {
    return new MaskingLogger(this.inner.child(maskValue(bindings) as Record<string, unknown>));
  }
}

function serialiseErrors(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { name: v.name, code: (v as { code?: unknown }).code, message: v.message } : v;
  }
  return out;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** A JSON-lines logger on stdout (or the given stream). */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  const inner = destination ? pino({ level }, destination) : pino({ level });
  return new MaskingLogger(inner);
}

/** A logger that drops everything (tests that do not inspect logs). */
export const silentLogger: Logger = createLogger('silent');
