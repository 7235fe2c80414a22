/**
 * Trains on the training split only and reports on the held-out test split (and on the
 * hand-written challenge set when present): per-intent precision/recall/F1, macro-F1, target
 * accuracy, the confusion matrix, misclassified utterances and parse speed.
 * With `--file <jsonl>`, also scores the model trained on the whole corpus (what ships) on that
 * file, counting only utterances the corpus does not contain.
 * Run: npm run nlu:eval [-- --json] [-- --logistic] [-- --file data/nlu/fresh.jsonl]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalogue } from '../domain/catalogue.js';
import { DATA_ASSETS_DIR } from '../paths.js';
import { loadCorpus, splitCorpus, type CorpusExample } from './corpus.js';
import { createNlu, type TrainedNlu } from './index.js';
import { NLU_DATA_DIR } from './lexicon.js';
import { INTENTS, type Intent } from './nlu.js';

export interface IntentScore {
  intent: Intent;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvalReport {
  size: number;
  accuracy: number;
  macroF1: number;
  perIntent: IntentScore[];
  /** Share of unsubscribe test utterances whose target (or 'unknown') was found correctly. */
  targetAccuracy: number;
  targetSupport: number;
  confusion: Record<Intent, Record<Intent, number>>;
  errors: { text: string; expected: string; got: string; confidence: number }[];
  /** Expected calibration error over 10 confidence bins. */
  ece: number;
  /** Per confidence bin (0–0.1 … 0.9–1): utterances, mean confidence, accuracy. */
  reliability: { n: number; confidence: number; accuracy: number }[];
  /** Share of right answers the dialog would still question (confidence below CLARIFY_AT). */
  rightButUnsure: number;
  /** Share of wrong answers confident enough to be acted on (confidence at CLARIFY_AT or above). */
  wrongButSure: number;
}

/** The dialog asks 您是想退订业务吗？ below this confidence (CLARIFY_BELOW in the unsubscribe machine). */
export const CLARIFY_AT = 0.6;

/** Scores an NLU on labelled examples. */
export function evaluate(nlu: TrainedNlu, examples: readonly CorpusExample[]): EvalReport {
  const confusion = Object.fromEntries(INTENTS.map((a) => [a, Object.fromEntries(INTENTS.map((b) => [b, 0]))])) as EvalReport['confusion'];
  const errors: EvalReport['errors'] = [];
  let correct = 0;
  let targetHits = 0;
  let targetSupport = 0;
  const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, hits: 0 }));
  let rightButUnsure = 0;
  let wrongButSure = 0;
  for (const ex of examples) {
    const r = nlu.parse(ex.text);
    confusion[ex.intent][r.intent]++;
    const ok = r.intent === ex.intent;
    if (ok) correct++;
    else errors.push({ text: ex.text, expected: ex.intent, got: r.intent, confidence: Number(r.confidence.toFixed(3)) });
    const bin = bins[Math.min(9, Math.floor(r.confidence * 10))]!;
    bin.n++;
    bin.conf += r.confidence;
    if (ok) bin.hits++;
    if (ok && r.confidence < CLARIFY_AT) rightButUnsure++;
    if (!ok && r.confidence >= CLARIFY_AT) wrongButSure++;
    if (ex.intent === 'unsubscribe' && ex.target) {
      targetSupport++;
      const got = r.target ?? 'unknown';
      if (got === ex.target) targetHits++;
      else if (ok) errors.push({ text: ex.text, expected: `target ${ex.target}`, got: `target ${got}`, confidence: Number(r.confidence.toFixed(3)) });
    }
  }
  const perIntent = INTENTS.map((intent): IntentScore => {
    const tp = confusion[intent][intent];
    const predicted = INTENTS.reduce((s, a) => s + confusion[a][intent], 0);
    const support = INTENTS.reduce((s, b) => s + confusion[intent][b], 0);
    const precision = predicted === 0 ? 0 : tp / predicted;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { intent, precision, recall, f1, support };
  });
  const present = perIntent.filter((s) => s.support > 0);
  const ece = bins.reduce((s, b) => (b.n === 0 ? s : s + (b.n / examples.length) * Math.abs(b.hits / b.n - b.conf / b.n)), 0);
  return {
    size: examples.length,
    accuracy: correct / Math.max(1, examples.length),
    macroF1: present.reduce((s, x) => s + x.f1, 0) / Math.max(1, present.length),
    perIntent,
    targetAccuracy: targetSupport === 0 ? 1 : targetHits / targetSupport,
    targetSupport,
    confusion,
    errors,
    ece,
    reliability: bins.map((b) => ({ n: b.n, confidence: b.n === 0 ? 0 : b.conf / b.n, accuracy: b.n === 0 ? 0 : b.hits / b.n })),
    rightButUnsure: rightButUnsure / Math.max(1, correct),
    wrongButSure: wrongButSure / Math.max(1, examples.length - correct),
  };
}

/** Utterances per second of `parse` over the given texts (single thread, after warm-up). */
export function measureSpeed(nlu: TrainedNlu, texts: readonly string[], minMs = 1000): number {
  for (const t of texts.slice(0, 500)) nlu.parse(t);
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (const t of texts) nlu.parse(t);
    n += texts.length;
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

const pct = (x: number): string => (x * 100).toFixed(1).padStart(5);

function printReport(title: string, r: EvalReport): void {
  const out: string[] = [];
  out.push(`\n== ${title}: ${r.size} utterances, accuracy ${pct(r.accuracy)}%, macro-F1 ${r.macroF1.toFixed(3)}, ECE ${r.ece.toFixed(3)}`);
  out.push('intent          precision  recall     F1  support');
  for (const s of r.perIntent) out.push(`${s.intent.padEnd(14)}    ${pct(s.precision)}   ${pct(s.recall)}  ${pct(s.f1)}  ${String(s.support).padStart(7)}`);
  out.push(`target accuracy (unsubscribe): ${pct(r.targetAccuracy)}% of ${r.targetSupport}`);
  const abbrev = (i: string): string => i.slice(0, 6).padStart(7);
  out.push('confusion (rows: expected, columns: predicted)');
  out.push(' '.repeat(14) + INTENTS.map(abbrev).join(''));
  for (const a of INTENTS) out.push(a.padEnd(14) + INTENTS.map((b) => String(r.confusion[a][b]).padStart(7)).join(''));
  out.push('reliability (confidence bin: utterances, mean confidence → accuracy)');
  out.push(r.reliability.map((b, i) => (b.n === 0 ? null : `  ${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${String(b.n).padStart(4)}, ${b.confidence.toFixed(2)} → ${b.accuracy.toFixed(2)}`)).filter((x) => x !== null).join('\n'));
  out.push(`below ${CLARIFY_AT} (the dialog asks to clarify): ${pct(r.rightButUnsure)}% of right answers; at ${CLARIFY_AT} or above: ${pct(r.wrongButSure)}% of wrong answers`);
  out.push(`errors (${r.errors.length}):`);
  for (const e of r.errors) out.push(`  ${e.expected.padEnd(16)} → ${e.got.padEnd(16)} ${e.confidence.toFixed(2)}  ${e.text}`);
  process.stdout.write(out.join('\n') + '\n');
}

function main(): void {
  const json = process.argv.includes('--json');
  const catalogue = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'));
  const { train, test } = splitCorpus(loadCorpus());
  const t0 = performance.now();
  const model = process.argv.includes('--logistic') ? 'logistic' : 'bayes';
  const nlu = createNlu(catalogue, { examples: train, model });
  const buildMs = performance.now() - t0;
  const report = evaluate(nlu, test);
  const challengeFile = join(NLU_DATA_DIR, 'challenge.jsonl');
  // Short stock phrases (好的, 退订) also occur in the corpus; only the ones training never saw count.
  const seen = new Set(train.map((e) => e.text));
  const challenge = existsSync(challengeFile) ? evaluate(nlu, loadCorpus(challengeFile).filter((e) => !seen.has(e.text))) : null;
  const fileAt = process.argv.indexOf('--file');
  const extraFile = fileAt >= 0 ? process.argv[fileAt + 1] : undefined;
  let extra: EvalReport | null = null;
  if (extraFile) {
    const corpus = loadCorpus();
    const inCorpus = new Set(corpus.map((e) => e.text));
    const shipped = createNlu(catalogue, { examples: corpus, model });
    extra = evaluate(shipped, loadCorpus(extraFile).filter((e) => !inCorpus.has(e.text)));
  }
  const speed = measureSpeed(nlu, test.map((e) => e.text));
  if (json) {
    process.stdout.write(JSON.stringify({ train: train.length, test: report, challenge, file: extra, utterancesPerSecond: speed, buildMs, temperature: nlu.classifier.temperature, lengthPower: nlu.classifier.lengthPower }) + '\n');
    return;
  }
  const name = model === 'bayes' ? "natural's naive Bayes" : 'logistic regression (comparison)';
  const { temperature, lengthPower } = nlu.classifier;
  process.stdout.write(`${name} trained on ${train.length} utterances; built in ${buildMs.toFixed(0)} ms; confidence = softmax(score / (${temperature} × known features^${lengthPower}))\n`);
  printReport('held-out test split', report);
  if (challenge) printReport('hand-written challenge set (never trained on)', challenge);
  if (extra) printReport(`${extraFile} (model trained on the whole corpus; corpus texts left out)`, extra);
  process.stdout.write(`\nspeed: ${Math.round(speed).toLocaleString('en')} utterances/s (one core)\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
