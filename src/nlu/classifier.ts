import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js';
import { readModel, trainingKey, writeModel } from './model-cache.js';
import { prng } from '../util/prng.js';

/** One training example: its feature names and its label. */
export interface LabeledFeatures {
  features: readonly string[];
  label: string;
}

export interface Prediction {
  label: string;
  /** Calibrated probability of `label`. */
  confidence: number;
  /** Calibrated probability of every label, in `labels` order. */
  probabilities: Float64Array;
}

/** A trained intent classifier. `predict` is pure and allocation-light (about 2 µs). */
export interface IntentClassifier {
  readonly labels: readonly string[];
  /** Softmax temperature fitted on out-of-fold predictions of the training data. */
  readonly temperature: number;
  predict(features: readonly string[]): Prediction;
  /** How many of the word and character-bigram features were seen in training: 0 means no evidence at all. */
  known(features: readonly string[]): number;
}

/** 'logistic': sparse softmax regression (default); 'bayes': natural's naive Bayes. */
export type ModelKind = 'logistic' | 'bayes';

export interface TrainOptions {
  model?: ModelKind;
  /**
   * Laplace-style smoothing handed to natural's Bayes classifier. Default 0.05: the penalty for a
   * feature a class never saw is smoothing / class size, so at 1 it drowns the large classes
   * (unsubscribe) once many small intents share their words.
   */
  smoothing?: number;
  /** Folds used to fit the temperature; 0 or 1 keeps temperature 1. Default 2. */
  calibrationFolds?: number;
  /** Passes over the data for the logistic model. Default 10. */
  epochs?: number;
  /** Seed of the example order for the logistic model. Default 1. */
  seed?: number;
  /**
   * Folder where trained logistic models are kept, keyed by a hash of everything training
   * depends on, so that the same examples are trained once per machine. Unset: no cache.
   * Cache failures are ignored (the model is then trained).
   */
  cacheDir?: string;
}

/** Raw class scores (log-space) of a trained model, labels sorted. */
interface Scorer {
  labels: string[];
  scores(features: readonly string[], out: Float64Array): Float64Array;
  has(feature: string): boolean;
}

/**
 * Trains natural's (Bernoulli-style) naive Bayes on sparse features. natural turns every document
 * into a dense vector over the whole vocabulary, which is slow with character bigrams, so the
 * documents are handed over as sparse observations instead; the sparse path does not count
 * documents, so class totals are set here to the values the dense path would have produced.
 */
function trainBayes(examples: readonly LabeledFeatures[], smoothing: number): BayesClassifier {
  const bayes = new BayesClassifier(undefined, smoothing);
  bayes.textToFeatures = (observation: string[]) => {
    const sparse: Record<string, string> = {};
    for (let i = 0; i < observation.length; i++) sparse[i] = observation[i]!;
    return sparse;
  };
  const counts: Record<string, number> = {};
  for (const ex of examples) {
    if (ex.features.length === 0) continue;
    bayes.addDocument([...ex.features], ex.label);
    counts[ex.label] = (counts[ex.label] ?? 0) + 1;
  }
  bayes.train();
  let total = 1;
  for (const [label, n] of Object.entries(counts)) {
    bayes.classifier.classTotals[label] = 1 + n;
    total += n;
  }
  bayes.classifier.totalExamples = total;
  return bayes;
}

/** The Bayes model as log-probability tables, so that scoring touches only the features present. */
interface LogTables {
  labels: string[];
  logPrior: Float64Array;
  logLikelihood: Map<string, Float64Array>;
}

function toLogTables(bayes: BayesClassifier): LogTables {
  const model = bayes.classifier;
  const labels = Object.keys(model.classFeatures).sort();
  const k = labels.length;
  const logPrior = new Float64Array(k);
  const logUnseen = new Float64Array(k);
  labels.forEach((label, c) => {
    const total = model.classTotals[label]!;
    logPrior[c] = Math.log(total / model.totalExamples);
    logUnseen[c] = Math.log(model.smoothing / total);
  });
  const logLikelihood = new Map<string, Float64Array>();
  labels.forEach((label, c) => {
    const total = model.classTotals[label]!;
    for (const [feature, count] of Object.entries(model.classFeatures[label]!)) {
      let row = logLikelihood.get(feature);
      if (!row) {
        row = Float64Array.from(logUnseen);
        logLikelihood.set(feature, row);
      }
      row[c] = Math.log(count / total);
    }
  });
  return { labels, logPrior, logLikelihood };
}

/**
 * Log-scores as natural computes them (log prior plus the log-likelihood of each present
 * feature), except that features never seen in training are skipped: they carry no evidence.
 */
function logScores(tables: LogTables, features: readonly string[], out: Float64Array): Float64Array {
  out.set(tables.logPrior);
  for (const f of features) {
    const row = tables.logLikelihood.get(f);
    if (!row) continue;
    for (let c = 0; c < out.length; c++) out[c]! += row[c]!;
  }
  return out;
}

function softmax(scores: Float64Array, temperature: number, out: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  let sum = 0;
  for (let c = 0; c < scores.length; c++) {
    const e = Math.exp((scores[c]! - max) / temperature);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < out.length; c++) out[c]! /= sum;
  return out;
}

function bayesScorer(examples: readonly LabeledFeatures[], options: TrainOptions): Scorer {
  const tables = toLogTables(trainBayes(examples, options.smoothing ?? BAYES_SMOOTHING));
  return { labels: tables.labels, scores: (features, out) => logScores(tables, features, out), has: (f) => tables.logLikelihood.has(f) };
}

const BAYES_SMOOTHING = 0.05;


const LEARNING_RATE = 0.5;
const L2 = 1e-5;

/**
 * Multinomial logistic regression over binary sparse features, trained by AdaGrad on the
 * cross-entropy with a small L2 penalty. Unlike naive Bayes it weighs overlapping features
 * (a word, its characters and its bigrams) jointly instead of counting the same evidence
 * several times, which is what lets 开通视频彩铃 and 退订视频彩铃 come apart.
 */
function logisticScorer(examples: readonly LabeledFeatures[], options: TrainOptions): Scorer {
  return scorerOf(trainLogistic(examples, options));
}

/** A trained logistic model: one row of `labels.length` weights per feature, plus the intercept. */
export interface LogisticModel {
  labels: string[];
  features: string[];
  /** Row-major, features.length × labels.length. */
  weights: Float64Array;
  intercept: Float64Array;
}

function trainLogistic(examples: readonly LabeledFeatures[], options: TrainOptions): LogisticModel {
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  const k = labels.length;
  const index = new Map<string, number>();
  const docs = examples.map((e) => {
    const ids: number[] = [];
    for (const f of e.features) {
      let id = index.get(f);
      if (id === undefined) {
        id = index.size;
        index.set(f, id);
      }
      ids.push(id);
    }
    return { ids, y: labels.indexOf(e.label) };
  });
  const n = index.size;
  const w = new Float64Array((n + 1) * k);
  const g2 = new Float64Array((n + 1) * k).fill(1e-8);
  const bias = n * k;
  const p = new Float64Array(k);
  const order = docs.map((_, i) => i);
  const rand = prng(options.seed ?? 1);
  const epochs = options.epochs ?? 10;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const di of order) {
      const { ids, y } = docs[di]!;
      for (let c = 0; c < k; c++) p[c] = w[bias + c]!;
      for (const id of ids) for (let c = 0; c < k; c++) p[c]! += w[id * k + c]!;
      let max = -Infinity;
      for (let c = 0; c < k; c++) if (p[c]! > max) max = p[c]!;
      let sum = 0;
      for (let c = 0; c < k; c++) {
        p[c] = Math.exp(p[c]! - max);
        sum += p[c]!;
      }
      for (let c = 0; c < k; c++) {
        const grad = p[c]! / sum - (c === y ? 1 : 0);
        const b = bias + c;
        g2[b]! += grad * grad;
        w[b]! -= (LEARNING_RATE * grad) / Math.sqrt(g2[b]!);
        for (const id of ids) {
          const at = id * k + c;
          const gi = grad + L2 * w[at]!;
          g2[at]! += gi * gi;
          w[at]! -= (LEARNING_RATE * gi) / Math.sqrt(g2[at]!);
        }
      }
    }
  }
  return { labels, features: [...index.keys()], weights: w.slice(0, n * k), intercept: w.slice(bias, bias + k) };
}

function scorerOf(model: LogisticModel): Scorer {
  const k = model.labels.length;
  const rows = new Map<string, Float64Array>();
  model.features.forEach((f, id) => rows.set(f, model.weights.subarray(id * k, id * k + k)));
  const intercept = model.intercept;
  return {
    labels: model.labels,
    has: (f) => rows.has(f),
    scores(features, out) {
      out.set(intercept);
      for (const f of features) {
        const row = rows.get(f);
        if (!row) continue;
        for (let c = 0; c < k; c++) out[c]! += row[c]!;
      }
      return out;
    },
  };
}

function scorerFor(examples: readonly LabeledFeatures[], options: TrainOptions): Scorer {
  return (options.model ?? 'logistic') === 'bayes' ? bayesScorer(examples, options) : logisticScorer(examples, options);
}

/** Temperature minimising the negative log-likelihood of out-of-fold predictions. */
function fitTemperature(examples: readonly LabeledFeatures[], folds: number, options: TrainOptions): number {
  if (folds < 2 || examples.length < folds * 2) return 1;
  const oof: { scores: Float64Array; label: string; labels: string[] }[] = [];
  for (let f = 0; f < folds; f++) {
    const train = examples.filter((_, i) => i % folds !== f);
    const held = examples.filter((_, i) => i % folds === f);
    const scorer = scorerFor(train, options);
    for (const ex of held) {
      oof.push({ scores: scorer.scores(ex.features, new Float64Array(scorer.labels.length)), label: ex.label, labels: scorer.labels });
    }
  }
  let best = 1;
  let bestNll = Infinity;
  for (let t = 0.25; t <= 40; t += t < 4 ? 0.125 : 1) {
    let nll = 0;
    for (const row of oof) {
      const p = softmax(row.scores, t, new Float64Array(row.scores.length));
      const c = row.labels.indexOf(row.label);
      nll -= Math.log(Math.max(c < 0 ? 0 : p[c]!, 1e-12));
    }
    if (nll < bestNll) {
      bestNll = nll;
      best = t;
    }
  }
  return best;
}

/** Trains the intent classifier. Throws nothing for well-formed input; empty examples give a classifier that always answers 'other'. */
export function trainIntentClassifier(examples: readonly LabeledFeatures[], options: TrainOptions = {}): IntentClassifier {
  const { scorer, temperature } = (options.model ?? 'logistic') === 'logistic' && options.cacheDir
    ? cachedLogistic(examples, options, options.cacheDir)
    : { scorer: scorerFor(examples, options), temperature: fitTemperature(examples, options.calibrationFolds ?? 2, options) };
  const k = scorer.labels.length;
  const scratch = new Float64Array(k);
  return {
    labels: scorer.labels,
    temperature,
    predict(features: readonly string[]): Prediction {
      if (k === 0) return { label: 'other', confidence: 0, probabilities: new Float64Array(0) };
      const probabilities = softmax(scorer.scores(features, scratch), temperature, new Float64Array(k));
      let best = 0;
      for (let c = 1; c < k; c++) if (probabilities[c]! > probabilities[best]!) best = c;
      return { label: scorer.labels[best]!, confidence: probabilities[best]!, probabilities };
    },
    known(features: readonly string[]): number {
      let n = 0;
      // Single characters are too weak to count: latin letters of gibberish (asdfgh) are all known.
      for (const f of features) if ((f.startsWith('w:') || f.startsWith('b:')) && scorer.has(f)) n++;
      return n;
    },
  };
}

/** Training is deterministic in its inputs, so a model trained before on the same inputs is reused. */
function cachedLogistic(examples: readonly LabeledFeatures[], options: TrainOptions, dir: string): { scorer: Scorer; temperature: number } {
  const folds = options.calibrationFolds ?? 2;
  const key = trainingKey(examples, { epochs: options.epochs ?? 10, seed: options.seed ?? 1, folds, learningRate: LEARNING_RATE, l2: L2 });
  const cached = readModel(dir, key);
  if (cached) return { scorer: scorerOf(cached.model), temperature: cached.temperature };
  const model = trainLogistic(examples, options);
  const temperature = fitTemperature(examples, folds, options);
  writeModel(dir, key, model, temperature);
  return { scorer: scorerOf(model), temperature };
}
