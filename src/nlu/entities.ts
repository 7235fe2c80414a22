import type { Choice } from './nlu.js';
import type { Lexicon } from './lexicon.js';
import { alternation, escapeRegExp } from '../util/regexp.js';

/** Identifiers and list picks found in one normalised utterance. */
export interface Identifiers {
  msisdn: string | null;
  code: string | null;
  idTail: string | null;
  ticket: string | null;
  /** A monthly fee named with its unit (10块钱, 15元, 5块5), in fen. */
  feeFen: number | null;
  choice: Choice | null;
  /**
   * With an all-but-some choice, the message in two: what is kept (除了视频彩铃, 保留宽带) and what
   * is cancelled (其他增值业务都退), which may name a kind.
   */
  except: { kept: string; rest: string } | null;
  /** The text with every identifier above blanked out, for intent features. */
  rest: string;
  /** Nothing but identifiers and punctuation was typed. */
  onlyIdentifiers: boolean;
  /** With an identifier in the message, what is left without it, its label (我的号码是) and punctuation; else null. */
  besideIdentifiers: string | null;
  /** Nothing but a list pick was typed ("2", "第一个和第三个", "1、3"). */
  onlyChoice: boolean;
  /** How many digits a message of nothing but digits holds when they make no number, code or ticket (1380013800: 10), else null. */
  strayDigits: number | null;
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


/** Extracts mobile numbers, codes, ID tails, tickets and list choices. Pure; never throws. */
export interface IdentifierExtractor {
  extract(normalized: string, negated: boolean): Identifiers;
}

export function createIdentifierExtractor(lexicon: Lexicon): IdentifierExtractor {
  const c = lexicon.choice;
  // Longest first, so that 我的手机号码是 goes before 号码.
  const identifierLabels = lexicon.identifierLabels.length > 0 ? new RegExp(alternation(lexicon.identifierLabels), 'g') : null;
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

  const charClass = (chars: string[]) => chars.map(escapeRegExp).join('');
  /** Not part of another word (以前, 然后), not a time span (前两个月, 后三天). */
  const notAfter = c.runNotAfter.length > 0 ? `(?<![${charClass(c.runNotAfter)}])` : '';
  const notTime = c.runNotBefore.length > 0 ? `(?![${charClass(c.runNotBefore)}])` : '';
  const demonstratives = c.runDemonstratives.map(escapeRegExp);
  const firstRun = c.firstWords.length > 0
    ? new RegExp(`${notAfter}(?:${alternation(c.firstWords)})(\\d{1,2}|${numerals})(?:${suffix})${notTime}`) : null;
  const lastRun = c.lastWords.length > 0
    ? new RegExp(`${notAfter}(?:${alternation(c.lastWords)})(\\d{1,2}|${[numerals, ...demonstratives].join('|')})?(?:${suffix})${notTime}`) : null;

  /** 前两个 / 最后一个: a run from one end of the list. */
  function runOf(compact: string): Choice | null {
    const first = firstRun?.exec(compact);
    if (first) {
      const n = numeralValue(first[1]!);
      return n >= 1 && n <= MAX_CHOICE ? { kind: 'first', count: n } : null;
    }
    const last = lastRun?.exec(compact);
    if (last) {
      const n = last[1] === undefined || c.runDemonstratives.includes(last[1]) ? 1 : numeralValue(last[1]);
      return n >= 1 && n <= MAX_CHOICE ? { kind: 'last', count: n } : null;
    }
    return null;
  }

  /** Nothing but a run and the words around a pick (前两个, 最后一个吧, 前三个都退). */
  function onlyRun(compact: string): boolean {
    let text = compact.replace(/\s+/g, '');
    for (const re of [firstRun, lastRun]) if (re) text = text.replace(re, '');
    for (const w of allWords) text = text.split(w).join('');
    return text.replace(fillerRe, '').length === 0;
  }

  const firstAt = (text: string, words: readonly string[], from = 0): number => {
    let at = -1;
    for (const w of words) {
      const i = text.indexOf(w, from);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    return at;
  };

  /**
   * 除了视频彩铃都退了, 除了第二个其他都退, 视频彩铃留着其他都退掉: everything listed but what is
   * named or numbered before the rest. The part after the exception must cancel (都退, 其他取消)
   * and must not refuse to (除了彩铃其他都不退 picks only 彩铃, and is left to the other readings).
   * Returns the positions left out and the text after the exception, or null when the message is
   * no such pick.
   */
  function exceptionOf(compact: string): { left: number[]; kept: string; rest: string } | null {
    const except = firstAt(compact, c.exceptWords);
    let head: string;
    let tail: string;
    if (except >= 0) {
      const rest = firstAt(compact, c.restWords, except);
      const all = firstAt(compact, [...c.exceptAll, ...c.all], except);
      const restFrom = [rest, all].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), compact.length);
      head = compact.slice(0, restFrom);
      tail = compact.slice(restFrom);
      if (restFrom === compact.length && except > 0) {
        // 都退了，除了视频彩铃 (all but …, said the other way round): what is kept comes after the exception.
        head = compact.slice(except);
        tail = compact.slice(0, except);
      }
    } else if (c.onlyKeepWords.some((w) => compact.includes(w))) {
      // 只留套餐: what follows the word is kept, and the rest goes whether or not a cancelling word says so.
      const at = firstAt(compact, c.onlyKeepWords);
      const rest = firstAt(compact, c.restWords, at);
      if (c.negatedCancelWords.some((w) => compact.includes(w) && !c.keepWords.includes(w))) return null;
      head = compact.slice(at, rest >= 0 ? rest : compact.length);
      tail = rest >= 0 ? compact.slice(rest) : '';
      return { left: picksIn(head), kept: head, rest: tail };
    } else {
      const keep = firstAt(compact, c.keepWords);
      const rest = firstAt(compact, c.restWords);
      if (keep < 0 || rest < 0 || keep > rest) return null;
      head = compact.slice(0, rest);
      tail = compact.slice(rest);
    }
    if (c.negatedCancelWords.some((w) => tail.includes(w))) return null;
    if (!c.cancelWords.some((w) => tail.includes(w)) && !allWords.some((w) => tail.includes(w))) return null;
    return { left: picksIn(head), kept: head, rest: tail };
  }

  /** The list numbers in `text` (第二个, 2). */
  function picksIn(text: string): number[] {
    const left: number[] = [];
    for (const m of text.matchAll(ordinal)) {
      const n = numeralValue(m[1]!);
      if (n >= 1 && n <= MAX_CHOICE && !left.includes(n)) left.push(n);
    }
    for (const m of text.matchAll(/(?<!\d)\d{1,2}(?!\d)/g)) {
      const n = Number(m[0]);
      if (n >= 1 && n <= MAX_CHOICE && !left.includes(n)) left.push(n);
    }
    return left;
  }

  const amountRe = lexicon.amount.units.length > 0
    ? new RegExp(`(?<![\\d.])(\\d{1,4})(?:\\.(\\d{1,2}))?(?:${alternation(lexicon.amount.units)})(\\d(?!\\d))?`)
    : null;

  const periodAmountRe = lexicon.amount.periods.length > 0
    ? new RegExp(`(?:${alternation(lexicon.amount.periods)})[^\\d]{0,3}?(\\d{1,4})(?:\\.(\\d{1,2}))?(?![\\d.]${lexicon.amount.notUnits.length > 0 ? `|${alternation(lexicon.amount.notUnits)}` : ''})`)
    : null;

  /** 10块钱 → 1000, 5块5 → 550, 9.9元 → 990, 每月30的 → 3000 (fen). */
  function feeOf(text: string): number | null {
    const m = amountRe?.exec(text) ?? periodAmountRe?.exec(text);
    if (!m) return null;
    const fraction = m[2] ?? m[3] ?? '';
    const fen = Number(m[1]) * 100 + (fraction === '' ? 0 : Math.round(Number(`0.${fraction}`) * 100));
    return fen > 0 ? fen : null;
  }

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
    // A run before 前两个 reads as nothing.
    if (!negated) {
      const run = runOf(compact.replace(/\s+/g, ''));
      if (run) return run;
    }
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
      // 验证码是 4 8 2 9 1 3: digits spaced out, behind a label at most, are the code.
      const spaced = (identifierLabels ? rest.replace(identifierLabels, '') : rest).replace(/[\s\-:：，,。.]/g, '');
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
      // All but some comes first: its 都退 would read as everything.
      const exception = code || idTail ? null : exceptionOf(blanked.replace(PUNCTUATION, ''));
      const choice: Choice | null = exception ? { kind: 'allExcept', indexes: exception.left, serviceIds: [], targets: [] } : code || idTail ? null : choiceOf(blanked, negated);
      const compact = blanked.replace(PUNCTUATION, ' ').trim();
      const onlyChoice = choice?.kind === 'indexes' && listOnly.test(compact);
      const run = choice?.kind === 'first' || choice?.kind === 'last' ? choice : null;
      // 我的号码是…, 验证码… : a label in front of the identifier is still nothing but the answer.
      const bare = blanked.replace(PUNCTUATION, '');
      const unlabelled = identifierLabels ? bare.replace(identifierLabels, '') : bare;
      const onlyIdentifiers = [ticket, msisdn, code, idTail].some((v) => v !== null) && unlabelled.length === 0;
      const except = exception ? { kept: exception.kept, rest: exception.rest } : null;
      // A few digits are a pick from a list unless no list has that number (0, 99).
      const digitsOnly = msisdn || code || idTail || ticket || choice ? null : /^\+?(\d{1,15})$/.exec(unlabelled.replace(/-/g, ''));
      return {
        msisdn, code, idTail, ticket, feeFen: feeOf(blanked), choice, except, rest: blanked, onlyIdentifiers,
        besideIdentifiers: [ticket, msisdn, code, idTail].some((v) => v !== null) ? unlabelled.replace(/\s+/g, '') : null,
        onlyChoice: onlyChoice || (run !== null && onlyRun(compact)),
        strayDigits: digitsOnly ? digitsOnly[1]!.length : null,
      };
    },
  };
}
