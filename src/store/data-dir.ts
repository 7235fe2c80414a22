import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';

const MANIFEST = 'tuiding-data.json';

/** Data files and folders whose loss must stop start-up rather than be replaced by an empty store. */
const JSON_FILES = ['operator.json', 'handoff.json', 'sla.json', 'filing-outbox.json', 'directline.json'];
/** Each JSON data file comes with its journal (see JsonFileDb): losing either loses data. */
const KNOWN = ['bot', ...JSON_FILES.flatMap((f) => [f, `${f}.journal`]), 'audit.jsonl', 'sms-outbox.jsonl', 'transcripts'];

/**
 * Before opening anything: every data file the last run had must still be there. A missing file
 * (deleted, a wrong mount, a half-restored backup) is an error naming it, never a fresh empty store.
 * Throws AppError 'store.unreadable'.
 */
export function checkDataDir(dataDir: string): void {
  const manifest = join(dataDir, MANIFEST);
  if (!existsSync(manifest)) return;
  let files: string[];
  try {
    files = (JSON.parse(readFileSync(manifest, 'utf8')) as { files: string[] }).files;
  } catch (err) {
    throw new AppError('store.unreadable', { cause: err, message: `${manifest} is not valid JSON; fix it, or remove it to accept the data folder as it is` });
  }
  const missing = files.filter((f) => !existsSync(join(dataDir, f)));
  if (missing.length > 0) {
    throw new AppError('store.unreadable', {
      message: `data file(s) missing from ${dataDir}: ${missing.join(', ')}. They existed in the last run (see ${MANIFEST}). `
        + `Restore them from a backup; to start them empty on purpose, remove their names from ${MANIFEST}.`,
    });
  }
}

/** After start-up: records which data files exist now, for the next run's check. */
export function recordDataDir(dataDir: string): void {
  const files = KNOWN.filter((f) => existsSync(join(dataDir, f)));
  const tmp = join(dataDir, `${MANIFEST}.tmp`);
  writeFileSync(tmp, `${JSON.stringify({ files, at: new Date().toISOString() }, null, 2)}\n`);
  renameSync(tmp, join(dataDir, MANIFEST));
}
