import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { trainIntentClassifier, type LabeledFeatures } from '../../src/nlu/classifier.js';

const examples: LabeledFeatures[] = [
  { features: ['w:退订', 'c:退', 'c:订'], label: 'unsubscribe' },
  { features: ['w:取消', 'c:取', 'c:消'], label: 'unsubscribe' },
  { features: ['w:开通', 'c:开', 'c:通'], label: 'other' },
  { features: ['w:办理', 'c:办', 'c:理'], label: 'other' },
  { features: ['w:你好', 'c:你', 'c:好'], label: 'greeting' },
  { features: ['w:您好', 'c:您', 'c:好'], label: 'greeting' },
];
const probes = [['w:退订'], ['c:开', 'c:好'], ['w:unknown']];
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'nlu-cache-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('trained model cache', () => {
  it('gives exactly the predictions of a fresh training, from the second build on', () => {
    const dir = tempDir();
    const fresh = trainIntentClassifier(examples);
    const first = trainIntentClassifier(examples, { cacheDir: dir });
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
    const second = trainIntentClassifier(examples, { cacheDir: dir });
    for (const p of probes) {
      expect(Array.from(first.predict(p).probabilities)).toEqual(Array.from(fresh.predict(p).probabilities));
      expect(Array.from(second.predict(p).probabilities)).toEqual(Array.from(fresh.predict(p).probabilities));
    }
    expect(second.temperature).toBe(fresh.temperature);
  });

  it('trains afresh when the examples change', () => {
    const dir = tempDir();
    trainIntentClassifier(examples, { cacheDir: dir });
    trainIntentClassifier([...examples, { features: ['w:转人工'], label: 'human_agent' }], { cacheDir: dir });
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(2);
  });

  it('ignores a damaged file and an unwritable folder', () => {
    const dir = tempDir();
    trainIntentClassifier(examples, { cacheDir: dir });
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.bin'));
    writeFileSync(join(dir, file!), 'not a model');
    const fresh = trainIntentClassifier(examples);
    expect(trainIntentClassifier(examples, { cacheDir: dir }).predict(probes[0]!).label).toBe(fresh.predict(probes[0]!).label);
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, '');
    expect(() => trainIntentClassifier(examples, { cacheDir: join(blocked, 'sub') })).not.toThrow();
  });
});
