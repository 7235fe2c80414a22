import * as OpenCC from 'opencc-js/t2cn';
import { loadLexicon, type Lexicon } from './lexicon.js';
import { alternation } from '../util/regexp.js';

/** Turns raw user text into the form every other NLU step works on. Pure; never throws. */
export type Normalizer = (text: string) => string;

const FULL_WIDTH_START = 0xff01;
const FULL_WIDTH_END = 0xff5e;
const FULL_WIDTH_OFFSET = 0xfee0;
const IDEOGRAPHIC_SPACE = 0x3000;

/** Full-width ASCII forms and the ideographic space to their half-width equivalents. */
export function foldWidth(text: string): string {
  let out = '';
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= FULL_WIDTH_START && c <= FULL_WIDTH_END) {
      out += String.fromCharCode(c - FULL_WIDTH_OFFSET);
      changed = true;
    } else if (c === IDEOGRAPHIC_SPACE) {
      out += ' ';
      changed = true;
    } else {
      out += text[i];
    }
  }
  return changed ? out : text;
}

/** True when the text has a character outside ASCII, i.e. something OpenCC could change. */
function hasNonAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return true;
  return false;
}

interface NumeralTables {
  digits: Map<string, number>;
  units: Map<string, number>;
  after: string[];
  before: string[];
  keepWords: string[];
}

function numeralTables(lexicon: Lexicon): NumeralTables {
  const n = lexicon.numerals;
  return {
    digits: new Map(Object.entries(n.digits)),
    units: new Map(Object.entries(n.units)),
    // Longest first so 分钟 is preferred over a shorter unit sharing its first character.
    after: [...n.after].sort((a, b) => b.length - a.length),
    before: n.before,
    keepWords: n.keepWords,
  };
}

/** Value of a run of Chinese numeral characters (一百二十 → 120, 十五 → 15, 一二三 → "123"). */
function numeralValue(run: string, t: NumeralTables): string | null {
  let hasUnit = false;
  for (const ch of run) if (t.units.has(ch)) hasUnit = true;
  if (!hasUnit) {
    let s = '';
    for (const ch of run) s += String(t.digits.get(ch));
    return s;
  }
  let total = 0;
  let section = 0;
  let digit = -1;
  for (const ch of run) {
    const d = t.digits.get(ch);
    if (d !== undefined) {
      digit = d;
      continue;
    }
    const unit = t.units.get(ch)!;
    if (unit === 10000) {
      total = (total + section + Math.max(digit, 0)) * unit;
      section = 0;
    } else {
      section += (digit < 0 ? 1 : digit) * unit;
    }
    digit = -1;
  }
  return String(total + section + Math.max(digit, 0));
}

function convertNumerals(text: string, t: NumeralTables): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (!t.digits.has(ch) && !t.units.has(ch)) {
      out += ch;
      i++;
      continue;
    }
    if (t.keepWords.some((w) => text.startsWith(w, i))) {
      out += ch;
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && (t.digits.has(text[j]!) || t.units.has(text[j]!))) j++;
    const run = text.slice(i, j);
    const startsWell = t.digits.has(run[0]!) || run[0] === '十';
    const prefixed = t.before.some((w) => out.endsWith(w));
    const rest = text.slice(j);
    const suffixed = t.after.some((w) => rest.startsWith(w));
    const spelled = !run.split('').some((c) => t.units.has(c)) && run.length >= 3;
    const value = startsWell && (prefixed || suffixed || spelled) ? numeralValue(run, t) : null;
    out += value ?? run;
    i = j;
  }
  return out;
}

/**
 * Builds the normaliser: full-width → half-width, Traditional → Simplified, lower-case latin,
 * trimmed and collapsed whitespace, and Chinese numerals → digits where they count something
 * (十元 → 10元, 五块 → 5块, 第二个 → 第2个, 一二三四五六 → 123456).
 */
export function createNormalizer(lexicon: Lexicon): Normalizer {
  const toSimplified = OpenCC.Converter({ from: 'tw', to: 'cn' });
  const tables = numeralTables(lexicon);
  const english = englishReader(lexicon.english);
  return (text: string): string => {
    let s = foldWidth(String(text ?? ''));
    if (hasNonAscii(s)) s = toSimplified(s);
    s = s.toLowerCase().replace(/\s+/g, ' ').trim();
    if (english && /[a-z]{2}/.test(s)) s = english(s);
    return convertNumerals(s, tables);
  };
}

/**
 * English as the Chinese the model knows (i want to cancel my data pack → 我要取消我的流量包): whole
 * words and phrases of the glossary, longest first, then the words that carry nothing dropped and
 * the spaces between Chinese closed. Null without a glossary.
 */
function englishReader(glossary: Lexicon['english']): ((text: string) => string) | null {
  const phrases = new Map(Object.entries(glossary.phrases).map(([k, v]) => [k.toLowerCase(), v]));
  if (phrases.size === 0) return null;
  const phraseRe = new RegExp(`(?<![a-z'])(?:${alternation([...phrases.keys()])})(?![a-z'])`, 'g');
  const dropRe = glossary.drop.length > 0 ? new RegExp(`(?<![a-z'])(?:${alternation(glossary.drop.map((w) => w.toLowerCase()))})(?![a-z'])`, 'g') : null;
  return (text: string): string => {
    let s = text.replace(phraseRe, (m) => phrases.get(m) ?? m);
    if (dropRe) s = s.replace(dropRe, ' ');
    return s.replace(/\s+/g, ' ').replace(/(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])/g, '').trim();
  };
}

let defaultNormalizer: Normalizer | null = null;

/** Normalises with the default lexicon (built on first use). */
export function normalize(text: string): string {
  defaultNormalizer ??= createNormalizer(loadLexicon());
  return defaultNormalizer(text);
}
