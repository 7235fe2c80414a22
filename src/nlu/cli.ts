/**
 * Command-line front end of the NLU.
 *   npm run --silent nlu -- --jsonl < utterances.txt   one JSON line per input line on stdout
 *   npm run --silent nlu -- 我想退订视频彩铃            the full NluResult of one utterance
 * Diagnostics go to stderr; with --jsonl stdout carries nothing but the result lines.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { loadCatalogue } from '../domain/catalogue.js';
import { DATA_ASSETS_DIR } from '../paths.js';
import { createNlu } from './index.js';
import type { NluResult } from './nlu.js';

/** The line format of --jsonl: target only for unsubscribe requests ('unknown' when not said). */
export function toJsonLine(r: NluResult): string {
  const unsubscribe = r.intent === 'unsubscribe';
  return JSON.stringify({
    text: r.text,
    intent: r.intent,
    confidence: Number(r.confidence.toFixed(4)),
    target: unsubscribe ? (r.target ?? 'unknown') : null,
    service: r.serviceIds[0] ?? null,
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const nlu = createNlu(loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json')));
  if (args.includes('--jsonl')) {
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) process.stdout.write(toJsonLine(nlu.parse(line.replace(/^\uFEFF/, ''))) + '\n');
    return;
  }
  const text = args.filter((a) => !a.startsWith('--')).join(' ');
  if (text.length === 0) {
    process.stderr.write('usage: npm run --silent nlu -- --jsonl < file   |   npm run --silent nlu -- <utterance>\n');
    process.exitCode = 2;
    return;
  }
  process.stdout.write(JSON.stringify(nlu.parse(text), null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`nlu: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
