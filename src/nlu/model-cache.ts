import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Calibration, LabeledFeatures, LinearModel } from './classifier.js';

/**
 * A small on-disk cache of trained intent models. Training is deterministic in its examples and
 * hyper-parameters, so their hash names the file. Reading and writing never throw: a missing,
 * partial or foreign file just means training again.
 */

/** Bump when the training algorithm or the file layout changes in a way the key does not capture. */
const FORMAT_VERSION = 2;
const MAGIC = 'tuiding-nlu-model';
/** Files kept per folder; older ones are removed when a new model is written. */
const KEEP = 8;

interface Header {
  magic: string;
  version: number;
  labels: string[];
  features: string[];
  temperature: number;
  lengthPower: number;
}

/** Hash of everything training depends on: the examples in order and the hyper-parameters. */
export function trainingKey(examples: readonly LabeledFeatures[], params: Record<string, number>): string {
  const h = createHash('sha256');
  h.update(`${MAGIC}/${FORMAT_VERSION}/${JSON.stringify(params)}\n`);
  for (const ex of examples) h.update(ex.label + '\t' + ex.features.join('\u0001') + '\n');
  return h.digest('hex').slice(0, 32);
}

/** The model stored under `key`, or null when there is none or it cannot be read. */
export function readModel(dir: string, key: string): { model: LinearModel; calibration: Calibration } | null {
  try {
    const buf = readFileSync(join(dir, `${key}.bin`));
    const headerLength = buf.readUInt32LE(0);
    const header = JSON.parse(buf.toString('utf8', 4, 4 + headerLength)) as Header;
    if (header.magic !== MAGIC || header.version !== FORMAT_VERSION) return null;
    const k = header.labels.length;
    const count = header.features.length * k + k;
    const start = 4 + headerLength;
    if (buf.length !== start + count * 8) return null;
    // slice() copies into a fresh, aligned ArrayBuffer: the header length leaves the doubles unaligned.
    const values = new Float64Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + count * 8));
    const weights = values.subarray(0, header.features.length * k);
    const intercept = values.subarray(header.features.length * k);
    const calibration = { temperature: header.temperature, lengthPower: header.lengthPower };
    return { model: { labels: header.labels, features: header.features, weights, intercept }, calibration };
  } catch {
    return null;
  }
}

/** Stores a model under `key` (atomically, by rename) and trims the folder; best effort. */
export function writeModel(dir: string, key: string, model: LinearModel, calibration: Calibration): void {
  try {
    mkdirSync(dir, { recursive: true });
    const header = Buffer.from(JSON.stringify({ magic: MAGIC, version: FORMAT_VERSION, labels: model.labels, features: model.features, ...calibration } satisfies Header), 'utf8');
    const values = new Float64Array(model.weights.length + model.intercept.length);
    values.set(model.weights);
    values.set(model.intercept, model.weights.length);
    const body = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length, 0);
    const tmp = join(dir, `${key}.${process.pid}.tmp`);
    writeFileSync(tmp, Buffer.concat([length, header, body]));
    renameSync(tmp, join(dir, `${key}.bin`));
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.bin'))
      .map((f) => ({ f, at: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const { f } of files.slice(KEEP)) unlinkSync(join(dir, f));
  } catch {
    // A read-only or full disk only costs the next start-up a training run.
  }
}
