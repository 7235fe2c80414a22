import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { createNlu } from '../../src/nlu/index.js';
import { loadCorpus, splitCorpus, isTestText } from '../../src/nlu/corpus.js';
import { NLU_DATA_DIR } from '../../src/nlu/lexicon.js';
import { evaluate } from '../../src/nlu/eval.js';
import { catalogue, productionNlu } from './nlu-fixture.js';

const corpus = loadCorpus();
const { train, test } = splitCorpus(corpus);
const nlu = createNlu(catalogue, { examples: train });
const report = evaluate(nlu, test);
const unsubscribe = report.perIntent.find((s) => s.intent === 'unsubscribe')!;

describe('corpus', () => {
  it('has at least 2,000 labelled utterances, every intent represented', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    for (const s of report.perIntent) expect(s.support).toBeGreaterThan(0);
  });

  it('labels the target of every unsubscribe utterance', () => {
    expect(corpus.filter((e) => e.intent === 'unsubscribe' && !e.target)).toEqual([]);
  });

  it('splits deterministically, about one fifth held out, with no text on both sides', () => {
    expect(test.length / corpus.length).toBeGreaterThan(0.15);
    expect(test.length / corpus.length).toBeLessThan(0.25);
    const trainTexts = new Set(train.map((e) => e.text));
    expect(test.filter((e) => trainTexts.has(e.text))).toEqual([]);
    expect(test.every((e) => isTestText(e.text))).toBe(true);
  });
});

describe('accuracy on the held-out split', () => {
  it("uses natural's naive Bayes unless told otherwise", () => {
    expect(nlu.classifier.kind).toBe('bayes');
  });

  it('finds unsubscribe requests with precision and recall of at least 0.97', () => {
    expect(unsubscribe.precision).toBeGreaterThanOrEqual(0.97);
    expect(unsubscribe.recall).toBeGreaterThanOrEqual(0.97);
  });

  it('reaches a macro-F1 of at least 0.97', () => {
    expect(report.macroF1).toBeGreaterThanOrEqual(0.97);
  });

  it('finds the target of at least 97% of unsubscribe requests', () => {
    expect(report.targetAccuracy).toBeGreaterThanOrEqual(0.97);
  });

  it('is calibrated: expected calibration error under 0.05', () => {
    expect(report.ece).toBeLessThan(0.05);
  });

  it('is sure of nearly all its right answers (confidence 0.6 or more, where the dialog stops asking)', () => {
    expect(report.rightButUnsure).toBeLessThan(0.03);
  });
});

describe('accuracy on the hand-written challenge set', () => {
  const seen = new Set(train.map((e) => e.text));
  const challenge = evaluate(nlu, loadCorpus(join(NLU_DATA_DIR, 'challenge.jsonl')).filter((e) => !seen.has(e.text)));
  const unsub = challenge.perIntent.find((s) => s.intent === 'unsubscribe')!;

  it('keeps unsubscribe precision and recall at 0.95 or more on sentences no template produced', () => {
    expect(unsub.precision).toBeGreaterThanOrEqual(0.95);
    expect(unsub.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps macro-F1 at 0.93 or more and target accuracy at 0.90 or more', () => {
    expect(challenge.macroF1).toBeGreaterThanOrEqual(0.93);
    expect(challenge.targetAccuracy).toBeGreaterThanOrEqual(0.9);
  });
});

// Written in subscribers' voice before the issue 8 intents were trained; it has guided changes
// since, so it is a regression set now, no longer blind. Floors sit below the measured figures.
describe('accuracy on the blind set', () => {
  const seen = new Set(train.map((e) => e.text));
  const blind = evaluate(nlu, loadCorpus(join(NLU_DATA_DIR, 'blind.jsonl')).filter((e) => !seen.has(e.text)));
  const unsub = blind.perIntent.find((s) => s.intent === 'unsubscribe')!;

  it('keeps unsubscribe precision and recall at 0.95 or more', () => {
    expect(unsub.precision).toBeGreaterThanOrEqual(0.95);
    expect(unsub.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps macro-F1 at 0.95 or more and target accuracy at 0.95 or more', () => {
    expect(blind.macroF1).toBeGreaterThanOrEqual(0.95);
    expect(blind.targetAccuracy).toBeGreaterThanOrEqual(0.95);
  });
});

// Written without looking at the templates, scored (0.946 macro-F1 with the logistic model, 0.912
// with Bayes) before the corpus was touched; its misses then guided template changes, so it is a
// regression set now. Scored like `npm run nlu:eval -- --file`: the shipped model, corpus texts left out.
describe('accuracy on the fresh set', () => {
  const inCorpus = new Set(corpus.map((e) => e.text));
  const fresh = evaluate(productionNlu(), loadCorpus(join(NLU_DATA_DIR, 'fresh.jsonl')).filter((e) => !inCorpus.has(e.text)));
  const unsub = fresh.perIntent.find((s) => s.intent === 'unsubscribe')!;

  it('keeps unsubscribe precision and recall at 0.97 or more', () => {
    expect(unsub.precision).toBeGreaterThanOrEqual(0.97);
    expect(unsub.recall).toBeGreaterThanOrEqual(0.97);
  });

  it('keeps macro-F1 at 0.95 or more and target accuracy at 0.97 or more', () => {
    expect(fresh.macroF1).toBeGreaterThanOrEqual(0.95);
    expect(fresh.targetAccuracy).toBeGreaterThanOrEqual(0.97);
  });

  it('asks to clarify on few of its right answers', () => {
    expect(fresh.rightButUnsure).toBeLessThan(0.05);
  });
});

// Written in subscribers' voice before the templates were read (fresh2), scored first (macro-F1 0.796,
// unsubscribe 0.891 / 0.873 with Bayes); its misses then guided generalising changes, so it is a
// regression set now, no longer blind. Scored like the fresh set; floors sit below the measured figures.
describe('accuracy on the second fresh set', () => {
  const inCorpus = new Set(corpus.map((e) => e.text));
  const fresh2 = evaluate(productionNlu(), loadCorpus(join(NLU_DATA_DIR, 'fresh2.jsonl')).filter((e) => !inCorpus.has(e.text)));
  const unsub = fresh2.perIntent.find((s) => s.intent === 'unsubscribe')!;

  it('keeps unsubscribe precision at 0.96 and recall at 0.95 or more', () => {
    expect(unsub.precision).toBeGreaterThanOrEqual(0.96);
    expect(unsub.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps macro-F1 at 0.93 or more and target accuracy at 0.97 or more', () => {
    expect(fresh2.macroF1).toBeGreaterThanOrEqual(0.93);
    expect(fresh2.targetAccuracy).toBeGreaterThanOrEqual(0.97);
  });

  it('asks to clarify on few of its right answers', () => {
    expect(fresh2.rightButUnsure).toBeLessThan(0.06);
  });
});

describe('the logistic regression, kept for comparison', () => {
  it('still trains from the same features and clears a lower floor', () => {
    const logistic = evaluate(createNlu(catalogue, { examples: train, model: 'logistic' }), test);
    expect(logistic.macroF1).toBeGreaterThanOrEqual(0.95);
    expect(logistic.perIntent.find((s) => s.intent === 'unsubscribe')!.precision).toBeGreaterThanOrEqual(0.97);
  });
});
