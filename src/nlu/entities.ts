import type { Choice } from './nlu.js';
import type { Lexicon } from './lexicon.js';

/** Identifiers and list picks found in one normalised utterance. */
export interface Identifiers {
  msisdn: string | null;
  code: string | null;
  idTail: string | null;
  ticket: string | null;
  choice: Choice | null;
  /** The text with every identifier above blanked out, for intent features. */
  rest: string;
  /** Nothing but identifiers and punctuation was typed. */
  onlyIdentifiers: boolean;
  /** Nothing but a list pick was typed ("2", "第一个和第三个", "1、3"). */
  onlyChoice: boolean;
}

const TICKET = /(?<![a-z0-9])td[\s-]?(\d{14})(?!\d)/g;
const BARE_TICKET = /(?<!\d)(20\d{12})(?!\d)/g;
const MSISDN = /(?<![\d+])(?:\+?86[\s-]?)?(1[3-9](?:[\s-]?\d){9})(?![\d])/g;
const CODE = /(?<![\dx])(\d{6})(?![\dx])/;
/** A code read out in groups, as SMS apps show it: 123 456, 12-34-56. */
const GROUPED_CODE = /(?<![\dx])(\d{3}[\s-]\d{3}|\d{2}[\s-]\d{2}[\s-]\d{2})(?![\dx])/;
const ID_TAIL = /(?<![\dx])(\d{5}[\dx])(?![\dx])/g;
const MAX_CHOICE = 20;
const PUNCTUATION = /[\s!-/:-@[-`{-~，。！？、；：“”‘’（）《》【】…—·～]+/g;

function blank(text: string, start: number, length: number): string {
  return text.slice(0, start) + ' '.repeat(length) + text.slice(start + length);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Extracts mobile numbers, codes, ID tails, tickets and list choices. Pure; never throws. */
export interface IdentifierExtractor {
  extract(normalized: string, negated: boolean): Identifiers;
}

export function createIdentifierExtractor(lexicon: Lexicon): IdentifierExtractor {
  const c = lexicon.choice;
  // Longest first, so that 我的手机号码是 goes before 号码.
  const identifierLabels = [...lexicon.identifierLabels].sort((a, b) => b.length - a.length);
  const allWords = [...c.all].sort((a, b) => b.length - a.length);
  const spokenAll = c.spokenAll;
  const joiner = c.joiners.map(escapeRegExp).join('|');
  const numerals = Object.keys(c.bareNumerals).map(escapeRegExp).join('|');
  const suffix = c.ordinalSuffix.map(escapeRegExp).join('|');
  const prefix = escapeRegExp(c.ordinalPrefix);
  const item = `(?:${prefix})?(?:\\d{1,2}|${numerals})(?:${suffix})?`;
  const listOnly = new RegExp(`^${item}(?:(?:${joiner})+${item})*$`);
  const ordinal = new RegExp(`${prefix}(\\d{1,2}|${numerals})(?:${suffix})`, 'g');
  const fillers = [...c.leadingWords, ...c.trailingWords].sort((a, b) => b.length - a.length);
  const fillerRe = new RegExp(fillers.map(escapeRegExp).join('|'), 'g');

  function numeralValue(token: string): number {
    const n = /^\d+$/.test(token) ? Number(token) : c.bareNumerals[token];
    return n ?? 0;
  }

  function indexesOf(list: string): number[] {
    const out: number[] = [];
    const re = new RegExp(`\\d{1,2}|${numerals}`, 'g');
    for (const m of list.matchAll(re)) {
      const n = numeralValue(m[0]);
      if (n >= 1 && n <= MAX_CHOICE && !out.includes(n)) out.push(n);
    }
    return out;
  }

  function choiceOf(rest: string, negated: boolean): Choice | null {
    const compact = rest.replace(PUNCTUATION, ' ').trim();
    if (compact.length === 0) return null;
    const stripped = compact.replace(fillerRe, ' ').replace(/\s+/g, ' ').trim();
    const ordinals: number[] = [];
    for (const m of compact.matchAll(ordinal)) {
      const n = numeralValue(m[1]!);
      if (n >= 1 && n <= MAX_CHOICE && !ordinals.includes(n)) ordinals.push(n);
    }
    if (ordinals.length > 0) return { kind: 'indexes', indexes: ordinals };
    const list = stripped.length > 0 && listOnly.test(stripped) ? indexesOf(stripped) : [];
    if (list.length > 0 && /\d/.test(stripped)) return { kind: 'indexes', indexes: list };
    // 两个都退 names a count, not a position: "all" words win over Chinese numerals.
    if (!negated && (allWords.some((w) => compact.includes(w)) || spokenAll.includes(compact))) return { kind: 'all' };
    if (list.length > 0) return { kind: 'indexes', indexes: list };
    return null;
  }

  return {
    extract(normalized: string, negated: boolean): Identifiers {
      let rest = normalized;
      let ticket: string | null = null;
      for (const re of [TICKET, BARE_TICKET]) {
        for (const m of rest.matchAll(re)) {
          ticket ??= 'TD' + m[1]!;
          rest = blank(rest, m.index, m[0].length);
        }
        if (ticket) break;
      }
      let msisdn: string | null = null;
      for (const m of rest.matchAll(MSISDN)) {
        const digits = m[1]!.replace(/\D/g, '');
        if (digits.length !== 11) continue;
        msisdn ??= digits;
        rest = blank(rest, m.index, m[0].length);
      }
      let code: string | null = null;
      const spaced = rest.replace(/[\s-]/g, '');
      if (/^\d{6}$/.test(spaced)) {
        code = spaced;
        rest = ' '.repeat(rest.length);
      } else {
        const m = CODE.exec(rest) ?? GROUPED_CODE.exec(rest);
        if (m) {
          code = m[1]!.replace(/\D/g, '');
          if (m[1]!.length > 6) rest = blank(rest, m.index, m[0].length);
        }
      }
      let idTail: string | null = null;
      for (const m of rest.matchAll(ID_TAIL)) {
        const v = m[1]!.toUpperCase();
        if (v.endsWith('X')) {
          idTail = v;
          break;
        }
        idTail ??= v;
      }
      if (!idTail && code) idTail = code;
      let blanked = rest;
      if (code) blanked = blanked.replace(code, ' '.repeat(6));
      if (idTail && idTail !== code) blanked = blanked.replace(idTail.toLowerCase(), ' '.repeat(6));
      const choice = code || idTail ? null : choiceOf(blanked, negated);
      const compact = blanked.replace(PUNCTUATION, ' ').trim();
      const onlyChoice = choice?.kind === 'indexes' && listOnly.test(compact);
      // 我的号码是…, 验证码… : a label in front of the identifier is still nothing but the answer.
      const unlabelled = identifierLabels.reduce((t, label) => t.split(label).join(''), blanked.replace(PUNCTUATION, ''));
      const onlyIdentifiers = [ticket, msisdn, code, idTail].some((v) => v !== null) && unlabelled.length === 0;
      return { msisdn, code, idTail, ticket, choice, rest: blanked, onlyIdentifiers, onlyChoice };
    },
  };
}
