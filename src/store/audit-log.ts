import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../errors.js';
import { maskValue } from '../privacy/mask.js';
import { BatchedAppender } from './batched-append.js';

/** What is recorded: filings, status changes, withdrawals, suspensions, disputes and agent actions. */
export interface AuditEvent {
  type: string;
  [field: string]: unknown;
}

export interface AuditEntry extends AuditEvent {
  /** ISO timestamp. */
  at: string;
  /** Position in the log, from 1. */
  seq: number;
  /** Hash of the previous entry ('' for the first). */
  prev: string;
  /** sha256 over prev and this entry without `hash`. */
  hash: string;
}

/** An append-only log where every entry is chained to the previous one by hash. */
export interface AuditLog {
  /** Appends one event (personal data masked); resolves once it is on disk. */
  append(event: AuditEvent): Promise<AuditEntry>;
  close(): Promise<void>;
}

function digest(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify(entry)).digest('hex');
}

/**
 * The audit log as a JSON-lines file (DATA_DIR/audit.jsonl), fdatasync'd before append() resolves
 * (concurrent appends share one write). Changing,
 * removing or reordering any entry breaks the chain from there on, which verifyAuditLog reports.
 */
export class FileAuditLog implements AuditLog {
  private last: { seq: number; hash: string };
  private readonly appender: BatchedAppender<{ event: AuditEvent; at: string; written?: AuditEntry }>;

  constructor(file: string, private readonly now: () => number = Date.now) {
    mkdirSync(dirname(file), { recursive: true });
    const result = existsSync(file) ? verifyAuditLog(file) : { ok: true as const, entries: 0, lastHash: '' };
    if (!result.ok) {
      throw new AppError('store.unreadable', { message: `audit log ${file} is broken at line ${result.line}: ${result.problem}; it was left untouched` });
    }
    this.last = { seq: result.entries, hash: result.lastHash };
    // The chain is computed when a batch is written, from the last entry known to be on disk,
    // so a failed write never leaves later entries chained to one that is not there.
    this.appender = new BatchedAppender(
      file,
      (batch) => {
        let { seq, hash } = this.last;
        const lines: string[] = [];
        for (const pending of batch) {
          const body = { ...(maskValue(pending.event) as AuditEvent), at: pending.at, seq: seq + 1, prev: hash };
          const entry: AuditEntry = { ...body, hash: digest(body) };
          pending.written = entry;
          lines.push(JSON.stringify(entry));
          seq = entry.seq;
          hash = entry.hash;
        }
        return `${lines.join('\n')}\n`;
      },
      (batch) => {
        const lastWritten = batch[batch.length - 1]!.written!;
        this.last = { seq: lastWritten.seq, hash: lastWritten.hash };
      },
    );
  }

  async append(event: AuditEvent): Promise<AuditEntry> {
    const pending: { event: AuditEvent; at: string; written?: AuditEntry } = { event, at: new Date(this.now()).toISOString() };
    await this.appender.append(pending);
    return pending.written!;
  }

  close(): Promise<void> {
    return this.appender.close();
  }
}

export type AuditVerification =
  | { ok: true; entries: number; lastHash: string }
  | { ok: false; line: number; problem: string };

/** Recomputes the chain of an audit log file. */
export function verifyAuditLog(file: string): AuditVerification {
  const lines = readFileSync(file, 'utf8').split('\n');
  let prev = '';
  let seq = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') {
      if (i === lines.length - 1) break;
      return { ok: false, line: i + 1, problem: 'empty line' };
    }
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      return { ok: false, line: i + 1, problem: 'not JSON' };
    }
    const { hash, ...body } = entry;
    if (entry.seq !== seq + 1) return { ok: false, line: i + 1, problem: `sequence ${entry.seq} after ${seq}` };
    if (entry.prev !== prev) return { ok: false, line: i + 1, problem: 'does not follow the previous entry' };
    if (digest(body) !== hash) return { ok: false, line: i + 1, problem: 'content does not match its hash' };
    prev = hash;
    seq = entry.seq;
  }
  return { ok: true, entries: seq, lastHash: prev };
}
