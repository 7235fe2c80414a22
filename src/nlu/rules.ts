import type { TargetType } from '../domain/types.js';
import type { Lexicon } from './lexicon.js';

/** Keyword rules over normalised text: the places where a rule is clearly better than the classifier. */
export interface Rules {
  /**
   * Fixes common misspellings (彩玲 → 彩铃), a few emoji (👌 → 好的) and latin words typed for
   * Chinese ones (tuiding, td, qx, cancel → 退订/取消) for classification and matching. Latin words
   * are replaced only when whole, so the td of a ticket number (td20261124000123) stays.
   */
  fixTypos(text: string): string;
  /** The user takes back a cancellation (我不想退订了, 先别取消, 取消退订). */
  negated(text: string): boolean;
  /** The whole message is an SMS unsubscribe command (TD, 0000, QX…). */
  smsCommand(text: string): boolean;
  /** The message quotes an operator SMS's unsubscribe instruction (回复TD退订), usually pasted with or without a request. */
  quotesSmsCommand(text: string): boolean;
  /** The text without the quoted instructions: what the user wrote around the pasted SMS, and the rest of the SMS. */
  withoutSmsCommand(text: string): string;
  /** The user asks for a person (转人工, 人工客服). */
  wantsHuman(text: string): boolean;
  /** The message cannot be an unsubscribe request: it orders something (开通, 续订) or is about a shop order (淘宝订单). */
  notUnsubscribe(text: string, namesProduct: boolean): boolean;
  /** The SMS code did not arrive, or another is wanted (验证码没收到, 重新发一个验证码). */
  asksNewCode(text: string): boolean;
  /** Targets named by keywords, best first. Weak words (注销, 流量) count only when `includeWeak`. */
  targets(text: string, includeWeak: boolean): TargetType[];
}

const TARGET_ORDER: readonly TargetType[] = ['number', 'broadband', 'plan', 'addon', 'vas'];
const PUNCTUATION = /[\s!-/:-@[-`{-~，。！？、；：“”‘’（）《》【】…—·～]+/g;

function keywordList(lists: Record<TargetType, string[]>): { word: string; target: TargetType }[] {
  const out: { word: string; target: TargetType }[] = [];
  for (const target of TARGET_ORDER) for (const word of lists[target]) out.push({ word: word.toLowerCase(), target });
  // Longer words first; among equal lengths the TARGET_ORDER above decides (the sort is stable).
  return out.sort((a, b) => b.word.length - a.word.length);
}

export function createRules(lexicon: Lexicon): Rules {
  const typos = Object.entries(lexicon.typos.map).sort((a, b) => b[0].length - a[0].length);
  const latinWords = new Map(Object.entries(lexicon.typos.latin).map(([k, v]) => [k.toLowerCase(), v]));
  const latinRun = /[a-z0-9]+/g;
  const negations = lexicon.negation.map((p) => new RegExp(p, 'g'));
  const exceptions = lexicon.negationExceptions;
  const human = lexicon.human;
  const humanNegation = lexicon.humanNegation;
  const smsExact = new Set(lexicon.smsCommands.exact);
  const smsPattern = new RegExp(lexicon.smsCommands.pattern);
  const smsReply = new RegExp(lexicon.smsCommands.reply);
  const smsReplyAll = new RegExp(lexicon.smsCommands.reply, 'g');
  const { orderVerbs, cancelWords, shopWords } = lexicon.vetoes;
  const strong = keywordList(lexicon.targets.strong);
  const weak = keywordList(lexicon.targets.weak);

  /** Keyword lists indexed by first character, keeping their order (longest first). */
  function byFirstChar(list: { word: string; target: TargetType }[]): Map<string, { word: string; target: TargetType }[]> {
    const out = new Map<string, { word: string; target: TargetType }[]>();
    for (const entry of list) {
      const bucket = out.get(entry.word[0]!) ?? [];
      bucket.push(entry);
      out.set(entry.word[0]!, bucket);
    }
    return out;
  }
  const strongIndex = byFirstChar(strong);
  const weakIndex = byFirstChar(weak);

  function findTargets(text: string, index: Map<string, { word: string; target: TargetType }[]>): TargetType[] {
    const hits: { target: TargetType; length: number; start: number }[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < text.length; i++) {
      const bucket = index.get(text[i]!);
      if (!bucket) continue;
      for (const { word, target } of bucket) {
        // The first occurrence of each word counts, as with indexOf.
        if (!seen.has(word) && text.startsWith(word, i)) {
          seen.add(word);
          hits.push({ target, length: word.length, start: i });
        }
      }
    }
    hits.sort((a, b) => b.length - a.length || a.start - b.start);
    const out: TargetType[] = [];
    for (const h of hits) if (!out.includes(h.target)) out.push(h.target);
    return out;
  }

  return {
    fixTypos(text) {
      let s = text;
      for (const [wrong, right] of typos) if (s.includes(wrong)) s = s.split(wrong).join(right);
      if (latinWords.size > 0 && /[a-z]/.test(s)) s = s.replace(latinRun, (run) => latinWords.get(run) ?? run);
      return s;
    },
    negated(text) {
      for (const re of negations) {
        re.lastIndex = 0;
        for (const m of text.matchAll(re)) {
          const around = text.slice(Math.max(0, m.index - 3), m.index + m[0].length + 3);
          if (!exceptions.some((e) => around.includes(e))) return true;
        }
      }
      return false;
    },
    smsCommand(text) {
      const compact = text.replace(PUNCTUATION, '');
      if (smsExact.has(compact)) return true;
      return smsPattern.test(compact) && !/^td\d{14}$/.test(compact);
    },
    quotesSmsCommand(text) {
      return smsReply.test(text);
    },
    withoutSmsCommand(text) {
      return text.replace(smsReplyAll, '，');
    },
    wantsHuman(text) {
      if (humanNegation.some((w) => text.includes(w))) return false;
      return human.some((w) => text.includes(w));
    },
    notUnsubscribe(text, namesProduct) {
      if (cancelWords.some((w) => text.includes(w))) {
        return !namesProduct && shopWords.some((w) => text.includes(w));
      }
      return orderVerbs.some((w) => text.includes(w)) || shopWords.some((w) => text.includes(w));
    },
    asksNewCode(text) {
      return lexicon.codeTrouble.subjects.some((w) => text.includes(w)) && lexicon.codeTrouble.words.some((w) => text.includes(w));
    },
    targets(text, includeWeak) {
      const found = findTargets(text, strongIndex);
      if (found.length > 0 || !includeWeak) return found;
      return findTargets(text, weakIndex);
    },
  };
}
