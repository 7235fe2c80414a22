import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { TargetType } from '../domain/types.js';
import { INTENTS, type Intent } from './nlu.js';
import { NLU_DATA_DIR } from './lexicon.js';

/** One labelled utterance of data/nlu/corpus.jsonl. */
export interface CorpusExample {
  text: string;
  intent: Intent;
  /** For unsubscribe utterances: what is being cancelled ('unknown' when not said). */
  target?: TargetType | 'unknown';
}

export const CORPUS_FILE = join(NLU_DATA_DIR, 'corpus.jsonl');

/** Percentage of the corpus held out for testing. */
export const TEST_PERCENT = 20;
/** Fixed seed of the split hash; change it only together with every figure reported against the split. */
export const SPLIT_SEED = 0x7d1a;

const TARGETS = new Set(['vas', 'addon', 'plan', 'broadband', 'number', 'unknown']);

/** Reads a JSONL corpus. Throws AppError 'config.invalid' naming the file and line. */
export function loadCorpus(file: string = CORPUS_FILE): CorpusExample[] {
  const out: CorpusExample[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new AppError('config.invalid', { cause: err, message: `${file}:${i + 1} is not JSON` });
    }
    const r = row as Partial<CorpusExample>;
    if (typeof r.text !== 'string' || !INTENTS.includes(r.intent as Intent) || (r.target !== undefined && !TARGETS.has(r.target))) {
      throw new AppError('config.invalid', { message: `${file}:${i + 1} needs a text, a known intent and an optional known target` });
    }
    out.push(r.target === undefined ? { text: r.text, intent: r.intent! } : { text: r.text, intent: r.intent!, target: r.target });
  });
  return out;
}

/** FNV-1a over the UTF-16 code units, mixed with the seed. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Whether an utterance belongs to the held-out test split (deterministic in its text). */
export function isTestText(text: string): boolean {
  return hash(text, SPLIT_SEED) % 100 < TEST_PERCENT;
}

/** Splits a corpus into the training and the held-out test part, by a fixed hash of each text. */
export function splitCorpus(examples: readonly CorpusExample[]): { train: CorpusExample[]; test: CorpusExample[] } {
  const train: CorpusExample[] = [];
  const test: CorpusExample[] = [];
  for (const ex of examples) (isTestText(ex.text) ? test : train).push(ex);
  return { train, test };
}
