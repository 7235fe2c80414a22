/**
 * Expands data/nlu/corpus-templates.json into data/nlu/corpus.jsonl, deterministically (fixed seed).
 * Run: npx tsx src/nlu/build-corpus.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as OpenCC from 'opencc-js/cn2t';
import { CORPUS_FILE, type CorpusExample } from './corpus.js';
import { NLU_DATA_DIR } from './lexicon.js';
import type { Intent } from './nlu.js';
import { prng } from '../util/prng.js';

interface Templates {
  slots: Record<string, string[]>;
  groups: { intent: Intent; target?: CorpusExample['target']; count: number; templates: string[] }[];
  literals: { intent: Intent; target?: CorpusExample['target']; texts: string[] }[];
  augment: { traditionalShare: number; fullWidthShare: number; typoShare: number; typos: [string, string][] };
}

const SEED = 20261124;
const MAX_DEPTH = 4;


function pick<T>(items: readonly T[], rand: () => number): T {
  return items[Math.floor(rand() * items.length)]!;
}

function expand(template: string, slots: Templates['slots'], rand: () => number, depth = 0, bare = false): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const values = slots[name];
    if (!values) throw new Error(`unknown slot ${whole}`);
    const value = bare && values.includes('') ? '' : pick(values, rand);
    return depth < MAX_DEPTH ? expand(value, slots, rand, depth + 1, bare) : value;
  });
}

/** Joins fillers the way people type: no doubled or leading commas, no comma before a full stop. */
function tidy(text: string): string {
  return text
    .replace(/，+/g, '，')
    .replace(/^[，\s]+/, '')
    .replace(/，([。！？?~])/g, '$1')
    .replace(/[，\s]+$/, '')
    .trim();
}

function toFullWidth(text: string): string {
  return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

function main(): void {
  const spec = JSON.parse(readFileSync(join(NLU_DATA_DIR, 'corpus-templates.json'), 'utf8')) as Templates;
  const rand = prng(SEED);
  const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' });
  const seen = new Set<string>();
  const out: CorpusExample[] = [];
  const add = (text: string, intent: Intent, target?: CorpusExample['target']): boolean => {
    if (text.length === 0 || seen.has(text)) return false;
    seen.add(text);
    out.push(target === undefined ? { text, intent } : { text, intent, target });
    return true;
  };
  for (const group of spec.groups) {
    // Every template once without its optional fillers (greetings, endings): short stock phrases
    // such as 不办了 must not depend on the draw.
    for (const template of group.templates) add(tidy(expand(template, spec.slots, rand, 0, true)), group.intent, group.target);
    let made = 0;
    for (let attempt = 0; made < group.count && attempt < group.count * 30; attempt++) {
      if (add(tidy(expand(pick(group.templates, rand), spec.slots, rand)), group.intent, group.target)) made++;
    }
  }
  for (const lit of spec.literals) for (const text of lit.texts) add(text, lit.intent, lit.target);
  const base = [...out];
  const a = spec.augment;
  for (const ex of base) {
    if (rand() < a.traditionalShare) add(toTraditional(ex.text), ex.intent, ex.target);
    if (rand() < a.fullWidthShare && /[!-~]/.test(ex.text)) add(toFullWidth(ex.text), ex.intent, ex.target);
    if (rand() < a.typoShare) {
      const options = a.typos.filter(([right]) => ex.text.includes(right));
      if (options.length > 0) {
        const [right, wrong] = pick(options, rand);
        add(ex.text.replace(right, wrong), ex.intent, ex.target);
      }
    }
  }
  writeFileSync(CORPUS_FILE, out.map((ex) => JSON.stringify(ex)).join('\n') + '\n');
  const counts: Record<string, number> = {};
  for (const ex of out) counts[ex.intent] = (counts[ex.intent] ?? 0) + 1;
  process.stderr.write(`wrote ${out.length} utterances to ${CORPUS_FILE}: ${JSON.stringify(counts)}\n`);
}

main();
