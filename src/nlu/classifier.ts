import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js';

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
}

export interface TrainOptions {
  /** Laplace-style smoothing handed to natural's Bayes classifier. Default 1. */
  smoothing?: number;
  /** Folds used to fit the temperature; 0 or 1 keeps temperature 1. Default 5. */
  calibrationFolds?: number;
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

/** Temperature minimising the negative log-likelihood of out-of-fold predictions. */
function fitTemperature(examples: readonly LabeledFeatures[], folds: number, smoothing: number): number {
  if (folds < 2 || examples.length < folds * 2) return 1;
  const oof: { scores: Float64Array; label: string; labels: string[] }[] = [];
  for (let f = 0; f < folds; f++) {
    const train = examples.filter((_, i) => i % folds !== f);
    const held = examples.filter((_, i) => i % folds === f);
    const tables = toLogTables(trainBayes(train, smoothing));
    for (const ex of held) {
      oof.push({ scores: logScores(tables, ex.features, new Float64Array(tables.labels.length)), label: ex.label, labels: tables.labels });
    }
  }
  let best = 1;
  let bestNll = Infinity;
  for (let t = 1; t <= 40; t += t < 4 ? 0.25 : 1) {
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
  const smoothing = options.smoothing ?? 1;
  const tables = toLogTables(trainBayes(examples, smoothing));
  const temperature = fitTemperature(examples, options.calibrationFolds ?? 5, smoothing);
  const k = tables.labels.length;
  const scratch = new Float64Array(k);
  return {
    labels: tables.labels,
    temperature,
    predict(features: readonly string[]): Prediction {
      if (k === 0) return { label: 'other', confidence: 0, probabilities: new Float64Array(0) };
      const probabilities = softmax(logScores(tables, features, scratch), temperature, new Float64Array(k));
      let best = 0;
      for (let c = 1; c < k; c++) if (probabilities[c]! > probabilities[best]!) best = c;
      return { label: tables.labels[best]!, confidence: probabilities[best]!, probabilities };
    },
  };
}
