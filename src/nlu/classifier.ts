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

/** A trained intent classifier. `predict` is pure and allocation-light (a few µs). */
export interface IntentClassifier {
  readonly labels: readonly string[];
  readonly kind: ModelKind;
  /**
   * Confidence calibration, fitted on out-of-fold predictions of the training data: the class
   * scores are divided by `temperature × n^lengthPower` (n: features of the utterance the model
   * knows) before the softmax.
   */
  readonly temperature: number;
  readonly lengthPower: number;
  predict(features: readonly string[]): Prediction;
  /** How many of the word and character-bigram features were seen in training: 0 means no evidence at all. */
  known(features: readonly string[]): number;
}

/**
 * 'bayes': natural's naive Bayes (default), decides the intent. 'logistic': a sparse softmax
 * regression written here, kept to compare against.
 */
export type ModelKind = 'bayes' | 'logistic';

export interface TrainOptions {
  model?: ModelKind;
  /**
   * Smoothing handed to natural's Bayes classifier. Default 0.01: the penalty for a feature a
   * class never saw is smoothing / class size, so at natural's default of 1 it drowns the large
   * classes (unsubscribe) once many small intents share their words.
   */
  smoothing?: number;
  /** Folds used to fit the calibration; 0 or 1 keeps temperature 1 and length power 0. Default 2. */
  calibrationFolds?: number;
  /** Passes over the data for the logistic model. Default 10. */
  epochs?: number;
  /** Seed of the example order for the logistic model. Default 1. */
  seed?: number;
  /**
   * Folder where trained models are kept, keyed by a hash of everything training depends on, so
   * that the same examples are trained once per machine. Unset: no cache. Cache failures are
   * ignored (the model is then trained).
   */
  cacheDir?: string;
}

/**
 * A trained model in linear form: the score of class c is `intercept[c]` plus the row of every
 * known feature present. naive Bayes fits this form exactly (log prior, log likelihoods), and so
 * does logistic regression; it is also what the cache stores.
 */
export interface LinearModel {
  labels: string[];
  features: string[];
  /** Row-major, features.length × labels.length. */
  weights: Float64Array;
  intercept: Float64Array;
}

/**
 * What natural's Bayes is trained on: words, character bigrams, the length bucket and short
 * messages whole. Character
 * unigrams are left out: they repeat the evidence of the words and bigrams that contain them, and
 * naive Bayes, which counts every feature as independent evidence, then grows overconfident and
 * leans towards the small intents with short stock phrases (held-out unsubscribe recall 0.970
 * with them, 0.979 without, at the same smoothing).
 */
const BAYES_FEATURE = /^(?:w|b|len|u):/;
const BAYES_SMOOTHING = 0.01;

/**
 * Trains natural's (Bernoulli-style) naive Bayes on sparse features. natural turns every document
 * into a dense vector over the whole vocabulary, which is slow with character bigrams, so the
 * documents are handed over as sparse observations instead; the sparse path does not count
 * documents, so class totals are set here to the values the dense path would have produced.
 */
function trainNaturalBayes(examples: readonly LabeledFeatures[], smoothing: number): BayesClassifier {
  const bayes = new BayesClassifier(undefined, smoothing);
  bayes.textToFeatures = (observation: string[]) => {
    const sparse: Record<string, string> = {};
    for (let i = 0; i < observation.length; i++) sparse[i] = observation[i]!;
    return sparse;
  };
  const counts: Record<string, number> = {};
  for (const ex of examples) {
    const features = ex.features.filter((f) => BAYES_FEATURE.test(f));
    if (features.length === 0) continue;
    bayes.addDocument(features, ex.label);
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

/**
 * natural's Bayes model as log-probability tables, the same quantities its `probabilityOfClass`
 * multiplies (prior, and count / class total per present feature, smoothing / class total when the
 * class never saw it), so that scoring touches only the features present.
 */
function bayesModel(examples: readonly LabeledFeatures[], smoothing: number): LinearModel {
  const model = trainNaturalBayes(examples, smoothing).classifier;
  const labels = Object.keys(model.classFeatures).sort();
  const k = labels.length;
  const intercept = new Float64Array(k);
  const logUnseen = new Float64Array(k);
  labels.forEach((label, c) => {
    const total = model.classTotals[label]!;
    intercept[c] = Math.log(total / model.totalExamples);
    logUnseen[c] = Math.log(model.smoothing / total);
  });
  const index = new Map<string, number>();
  for (const label of labels) for (const feature of Object.keys(model.classFeatures[label]!)) if (!index.has(feature)) index.set(feature, index.size);
  const weights = new Float64Array(index.size * k);
  for (let r = 0; r < index.size; r++) weights.set(logUnseen, r * k);
  labels.forEach((label, c) => {
    const total = model.classTotals[label]!;
    for (const [feature, count] of Object.entries(model.classFeatures[label]!)) weights[index.get(feature)! * k + c] = Math.log(count / total);
  });
  return { labels, features: [...index.keys()], weights, intercept };
}

const LEARNING_RATE = 0.5;
const L2 = 1e-5;

/**
 * Multinomial logistic regression over binary sparse features, trained by AdaGrad on the
 * cross-entropy with a small L2 penalty. Not natural's: natural's logistic regression and MaxEnt
 * work on dense vectors and do not train on thousands of n-gram features within the start-up
 * budget. Kept for comparison (`model: 'logistic'`).
 */
function logisticModel(examples: readonly LabeledFeatures[], options: TrainOptions): LinearModel {
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

function trainModel(examples: readonly LabeledFeatures[], options: TrainOptions): LinearModel {
  return (options.model ?? 'bayes') === 'bayes' ? bayesModel(examples, options.smoothing ?? BAYES_SMOOTHING) : logisticModel(examples, options);
}

/** A model ready to score: one row per feature name. */
interface Scorer {
  labels: string[];
  has(feature: string): boolean;
  /** Writes the class scores into `out` and returns how many of the features the model knows. */
  scores(features: readonly string[], out: Float64Array): number;
}

function scorerOf(model: LinearModel): Scorer {
  const k = model.labels.length;
  const rows = new Map<string, Float64Array>();
  model.features.forEach((f, id) => rows.set(f, model.weights.subarray(id * k, id * k + k)));
  const intercept = model.intercept;
  return {
    labels: model.labels,
    has: (f) => rows.has(f),
    scores(features, out) {
      out.set(intercept);
      let known = 0;
      for (const f of features) {
        const row = rows.get(f);
        if (!row) continue;
        known++;
        for (let c = 0; c < k; c++) out[c]! += row[c]!;
      }
      return known;
    },
  };
}

/** Softmax of `scores / divisor` into `out`. */
function softmax(scores: Float64Array, divisor: number, out: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  let sum = 0;
  for (let c = 0; c < scores.length; c++) {
    const e = Math.exp((scores[c]! - max) / divisor);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < out.length; c++) out[c]! /= sum;
  return out;
}

export interface Calibration {
  temperature: number;
  lengthPower: number;
}

/** The divisor of the class scores for an utterance with `known` known features. */
function divisorOf(calibration: Calibration, known: number): number {
  return calibration.temperature * Math.pow(Math.max(1, known), calibration.lengthPower);
}

/** Length powers tried; 0 is plain temperature scaling. */
const LENGTH_POWERS = [0, 0.25, 0.5, 0.75, 1];

/**
 * Calibration minimising the negative log-likelihood of out-of-fold predictions on the training
 * data. Naive Bayes adds one log-likelihood per feature, so its margins grow with the length of
 * the utterance whether or not the evidence is independent; dividing by a power of the number of
 * known features as well as by a temperature corrects that (held-out expected calibration error
 * 0.033 with a temperature alone, 0.016 with both).
 */
function fitCalibration(examples: readonly LabeledFeatures[], folds: number, options: TrainOptions): Calibration {
  if (folds < 2 || examples.length < folds * 2) return { temperature: 1, lengthPower: 0 };
  const oof: { scores: Float64Array; known: number; y: number }[] = [];
  for (let f = 0; f < folds; f++) {
    const scorer = scorerOf(trainModel(examples.filter((_, i) => i % folds !== f), options));
    examples.forEach((ex, i) => {
      if (i % folds !== f) return;
      const scores = new Float64Array(scorer.labels.length);
      const known = scorer.scores(ex.features, scores);
      oof.push({ scores, known, y: scorer.labels.indexOf(ex.label) });
    });
  }
  const nll = (calibration: Calibration): number => {
    let sum = 0;
    for (const row of oof) {
      const p = softmax(row.scores, divisorOf(calibration, row.known), new Float64Array(row.scores.length));
      sum -= Math.log(Math.max(row.y < 0 ? 0 : p[row.y]!, 1e-12));
    }
    return sum;
  };
  let best: Calibration = { temperature: 1, lengthPower: 0 };
  let bestNll = Infinity;
  for (const lengthPower of LENGTH_POWERS) {
    // Golden-section search on log(temperature): the likelihood is unimodal in it.
    let lo = Math.log(0.01);
    let hi = Math.log(100);
    const g = (Math.sqrt(5) - 1) / 2;
    for (let i = 0; i < 30; i++) {
      const a = hi - g * (hi - lo);
      const b = lo + g * (hi - lo);
      if (nll({ temperature: Math.exp(a), lengthPower }) < nll({ temperature: Math.exp(b), lengthPower })) hi = b;
      else lo = a;
    }
    // Rounded so that the figure printed is the figure used.
    const temperature = Number(Math.exp((lo + hi) / 2).toPrecision(3));
    const value = nll({ temperature, lengthPower });
    if (value < bestNll) {
      bestNll = value;
      best = { temperature, lengthPower };
    }
  }
  return best;
}

/** Trains the intent classifier. Throws nothing for well-formed input; empty examples give a classifier that always answers 'other'. */
export function trainIntentClassifier(examples: readonly LabeledFeatures[], options: TrainOptions = {}): IntentClassifier {
  const kind = options.model ?? 'bayes';
  const { model, calibration } = options.cacheDir
    ? cachedModel(examples, options, options.cacheDir)
    : { model: trainModel(examples, options), calibration: fitCalibration(examples, options.calibrationFolds ?? 2, options) };
  const scorer = scorerOf(model);
  const k = scorer.labels.length;
  const scratch = new Float64Array(k);
  return {
    labels: scorer.labels,
    kind,
    temperature: calibration.temperature,
    lengthPower: calibration.lengthPower,
    predict(features: readonly string[]): Prediction {
      if (k === 0) return { label: 'other', confidence: 0, probabilities: new Float64Array(0) };
      const known = scorer.scores(features, scratch);
      const probabilities = softmax(scratch, divisorOf(calibration, known), new Float64Array(k));
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
function cachedModel(examples: readonly LabeledFeatures[], options: TrainOptions, dir: string): { model: LinearModel; calibration: Calibration } {
  const kind = options.model ?? 'bayes';
  const folds = options.calibrationFolds ?? 2;
  const params: Record<string, number> = kind === 'bayes'
    ? { bayes: 1, smoothing: options.smoothing ?? BAYES_SMOOTHING, folds }
    : { logistic: 1, epochs: options.epochs ?? 10, seed: options.seed ?? 1, folds, learningRate: LEARNING_RATE, l2: L2 };
  const key = trainingKey(examples, params);
  const cached = readModel(dir, key);
  if (cached) return cached;
  const model = trainModel(examples, options);
  const calibration = fitCalibration(examples, folds, options);
  writeModel(dir, key, model, calibration);
  return { model, calibration };
}
