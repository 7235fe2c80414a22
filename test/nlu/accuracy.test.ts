import { describe, it, expect } from 'vitest';
import { createNlu } from '../../src/nlu/index.js';
import { loadCorpus, splitCorpus, isTestText } from '../../src/nlu/corpus.js';
import { evaluate } from '../../src/nlu/eval.js';
import { catalogue } from './nlu-fixture.js';

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
  it('finds unsubscribe requests with precision and recall of at least 0.95', () => {
    expect(unsubscribe.precision).toBeGreaterThanOrEqual(0.95);
    expect(unsubscribe.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('reaches a macro-F1 of at least 0.90', () => {
    expect(report.macroF1).toBeGreaterThanOrEqual(0.9);
  });

  it('finds the target of at least 90% of unsubscribe requests', () => {
    expect(report.targetAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('is calibrated: expected calibration error under 0.08', () => {
    expect(report.ece).toBeLessThan(0.08);
  });
});
