import type { TargetType } from '../domain/types.js';
import type { Lexicon } from './lexicon.js';
import { PRODUCT_PLACEHOLDER } from './mask.js';
import { alternation } from '../util/regexp.js';

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
  /** The message pastes an operator SMS (【中国移动】…, 尊敬的客户…), with or without a reply instruction. */
  pastesSms(text: string): boolean;
  /** The whole message asks whether the bot is a machine (你是机器人吗). */
  asksIfBot(text: string): boolean;
  /**
   * The whole message is a cancelling verb and the products it cancels, nothing else (退订宽带,
   * 把套餐退了), in `masked` text (products replaced by the mask's placeholders).
   */
  bareCancel(masked: string): boolean;
  /** The whole message takes the request back in so many words (不要退了, 别退了). */
  declinesAlone(text: string): boolean;
  /** The whole message only says no (不了, 不需要了). */
  saysNoAlone(text: string): boolean;
  /** What the user wrote around a pasted SMS: the text without the instruction, 【sender】 tags and the operator's own clauses. */
  userWords(text: string): string;
  /** The user asks for a person (转人工, 人工客服). */
  wantsHuman(text: string): boolean;
  /** The message cannot be an unsubscribe request: it orders something (开通, 续订) or is about a shop order (淘宝订单). */
  notUnsubscribe(text: string, namesProduct: boolean): boolean;
  /** The message is about a shop order (退货, 淘宝订单) and names no telecom product. */
  aboutShopOrder(text: string, namesProduct: boolean): boolean;
  /** The SMS code did not arrive, or another is wanted (验证码没收到, 重新发一个验证码). */
  asksNewCode(text: string): boolean;
  /** The message orders something (开通流量包, 升级5G套餐) and cancels nothing. */
  ordersSomething(text: string): boolean;
  /** The message is about advertising texts (别再给我发广告短信了): nothing subscribed, nothing to cancel. */
  aboutMarketingSms(text: string): boolean;
  /**
   * The number, the one thing named, is to be kept while unused (停机保号, 手机号要停一段时间): a
   * suspension rather than a closure, unless the keeping is turned down (不要保号，直接销号).
   */
  keepsNumber(text: string): boolean;
  /** Another number is to be used than the one asked for or given (换个号码, 用我另一个号码). */
  asksOtherNumber(text: string): boolean;
  /** When or how a service was ordered (什么时候开通的, 开通记录); not who ordered it. */
  asksOrderRecord(text: string): boolean;
  /** The customer-service phone number is asked for (你们客服电话多少). */
  asksHotline(text: string): boolean;
  /** The service is said outright never to have been ordered (没订过, 不是我开的). */
  claimsNeverOrdered(text: string): boolean;
  /** A yes put as a question (确定吗, 确认？): it asks rather than answers. */
  yesAsked(text: string): boolean;
  /** A yes refused (确认不了, 确认个屁, 没法确认): a no. */
  yesRefused(text: string): boolean;
  /** 提交 / 帮我提交 alone (matched without punctuation): a yes to the confirmation, which asks for one to 提交. */
  submitsAlone(text: string): boolean;
  /** The service password or the ID number is not at hand (忘了服务密码, 身份证不在身边). */
  forgotSecret(text: string): boolean;
  /** `masked` (product names replaced by the mask's placeholders) is one or more names and nothing else but filler (那个流量包, 手机报呢). */
  onlyNames(masked: string): boolean;
  /** The message names the account's everyday business (余额, 充值, 账单, 积分). */
  aboutAccount(text: string): boolean;
  /** 不是这个, 选错了: what was picked or proposed is not what the user meant. */
  notThisOne(text: string): boolean;
  /** 都不是, 没有我要的: nothing in the list shown is what the user meant. */
  noneOfThese(text: string): boolean;
  /** The message is about accounts tied to the number (那我的支付宝呢, 绑定的银行卡怎么办). */
  aboutBoundAccounts(text: string): boolean;
  /** Targets named by keywords, best first. Weak words (注销, 流量) count only when `includeWeak`. */
  targets(text: string, includeWeak: boolean): TargetType[];
  /** The text with every date, clock time, long digit run (bank card) and street number (文三路478号) replaced by `placeholder`. */
  maskDates(text: string, placeholder: string): string;
  /** The message is nothing but dates, times, long digit runs and day words (2026-11-24, 明天下午3点). */
  onlyDates(text: string): boolean;
  /** The message's clauses: split at punctuation and at connectives of run-on messages (顺便, 另外). */
  clauses(text: string): string[];
}

/** The ordering verb that also just means "to do" (我要办理): not enough to call a message an order. */
const GENERIC_ORDER_VERB = '办理';
const TARGET_ORDER: readonly TargetType[] = ['number', 'broadband', 'plan', 'addon', 'vas'];
/** Spaces between digits. */
const DIGIT_GROUPS = /(\d)\s+(?=\d)/g;
/** The mask's product placeholders (mask.ts). */
const PLACEHOLDERS = new RegExp(`[${Object.values(PRODUCT_PLACEHOLDER).join('')}]`);
const PLACEHOLDERS_ALL = new RegExp(PLACEHOLDERS.source, 'g');
const PUNCTUATION = /[\s!-/:-@[-`{-~，。！？、；：“”‘’（）《》【】…—·～]+/g;
const CLAUSE_BREAK = /[，,。.！!？?；;~～…\s]+/;

function keywordList(lists: Record<TargetType, string[]>): { word: string; target: TargetType }[] {
  const out: { word: string; target: TargetType }[] = [];
  for (const target of TARGET_ORDER) for (const word of lists[target]) out.push({ word: word.toLowerCase(), target });
  // Longer words first; among equal lengths the TARGET_ORDER above decides (the sort is stable).
  return out.sort((a, b) => b.word.length - a.word.length);
}

/** Misspellings of the key words with one character swapped for a homophone (推定 → 退订), except listed words. */
function homophoneVariants(h: Lexicon['typos']['homophones']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of h.words) {
    for (let i = 0; i < word.length; i++) {
      for (const alt of h.chars[word[i]!] ?? []) {
        const variant = word.slice(0, i) + alt + word.slice(i + 1);
        if (variant !== word && !h.except.includes(variant) && !h.words.includes(variant)) out[variant] = word;
      }
    }
  }
  return out;
}

/**
 * A latin run made only of known words (liuliangbao = liuliang + bao, quxiaocailing): their
 * translations joined; null when any part is unknown, so English words and codes stay as typed.
 */
function splitLatin(run: string, words: ReadonlyMap<string, string>, maxWord: number): string | null {
  if (/\d/.test(run) || run.length < 4) return null;
  const best: (string | null)[] = new Array<string | null>(run.length + 1).fill(null);
  best[0] = '';
  for (let end = 1; end <= run.length; end++) {
    for (let len = Math.min(maxWord, end); len >= 2; len--) {
      const prefix = best[end - len];
      const word = words.get(run.slice(end - len, end));
      if (prefix !== null && prefix !== undefined && word !== undefined) {
        best[end] = prefix + word;
        break;
      }
    }
  }
  return best[run.length] ?? null;
}

export function createRules(lexicon: Lexicon): Rules {
  // Hand-listed misspellings win over generated homophones and dialect words over both.
  const typoMap = { ...homophoneVariants(lexicon.typos.homophones), ...lexicon.typos.map, ...lexicon.typos.dialect.map };
  const typoIndex = new Map<string, [string, string][]>();
  for (const entry of Object.entries(typoMap).sort((a, b) => b[0].length - a[0].length)) {
    const bucket = typoIndex.get(entry[0][0]!) ?? [];
    bucket.push(entry);
    typoIndex.set(entry[0][0]!, bucket);
  }
  const latinWords = new Map(Object.entries(lexicon.typos.latin).map(([k, v]) => [k.toLowerCase(), v]));
  const maxLatin = Math.max(0, ...[...latinWords.keys()].map((k) => k.length));
  const latinRun = /[a-z0-9]+/g;
  const datePatterns = lexicon.datesAndTimes.patterns.map((p) => new RegExp(p, 'g'));
  const address = lexicon.datesAndTimes.addressPattern ? new RegExp(lexicon.datesAndTimes.addressPattern, 'g') : null;
  const dayWords = [...lexicon.datesAndTimes.dayWords].sort((a, b) => b.length - a.length);
  const connectives = [...lexicon.clauseConnectives.words].sort((a, b) => b.length - a.length);
  const negations = lexicon.negation.map((p) => new RegExp(p, 'g'));
  const exceptions = lexicon.negationExceptions;
  const human = lexicon.human;
  const humanNegation = lexicon.humanNegation;
  const smsExact = new Set(lexicon.smsCommands.exact);
  const smsPattern = new RegExp(lexicon.smsCommands.pattern);
  const smsReply = new RegExp(lexicon.smsCommands.reply);
  const smsReplyAll = new RegExp(lexicon.smsCommands.reply, 'g');
  const { orderVerbs, cancelWords, shopWords } = lexicon.vetoes;
  const operatorWording = lexicon.smsCommands.operatorWording;
  const operatorOpeners = lexicon.smsCommands.operatorOpeners;
  const notOrders = [...lexicon.vetoes.notOrders].sort((a, b) => b.length - a.length);
  const botIdentity = lexicon.botIdentity ? new RegExp(lexicon.botIdentity.pattern) : null;

  /** The ordering verbs in `text`, after taking out words that describe an order already made (已开通). */
  function orderingVerbs(text: string): string[] {
    let ordering = text;
    for (const w of notOrders) if (ordering.includes(w)) ordering = ordering.split(w).join('，');
    return orderVerbs.filter((w) => ordering.includes(w));
  }
  const bareCancel = bareCancelPattern(lexicon.bareCancel);
  const longestFirst = (words: readonly string[]): string[] => [...words].sort((a, b) => b.length - a.length);
  const nameFiller = longestFirst(lexicon.bareName.filler);
  /** The trouble words and what may stand around them alone (还没收到). */
  const troubleAlone = longestFirst([...lexicon.codeTrouble.words, ...lexicon.codeTrouble.alone]);
  const submitAlone = lexicon.yesVetoes?.submitAlone ? new RegExp(lexicon.yesVetoes.submitAlone) : null;
  const yesVetoes = lexicon.yesVetoes ? { question: new RegExp(lexicon.yesVetoes.question), refused: new RegExp(lexicon.yesVetoes.refused) } : null;
  const orderRecord = lexicon.orderRecord ? new RegExp(lexicon.orderRecord.pattern) : null;
  const otherNumber = lexicon.otherNumber ? new RegExp(lexicon.otherNumber.pattern) : null;
  const keepNumber = lexicon.keepNumber ? { keep: new RegExp(lexicon.keepNumber.keep), not: new RegExp(lexicon.keepNumber.not) } : null;
  const noAlone = lexicon.bareCancel.noAlone ? new RegExp(lexicon.bareCancel.noAlone) : null;
  const declineAlone = lexicon.bareCancel.declineAlone ? new RegExp(lexicon.bareCancel.declineAlone) : null;
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

  function clausesOf(text: string): string[] {
    // A number or code typed in groups (138 0013 8000) is one thing said, not clauses.
    let s = text.replace(DIGIT_GROUPS, '$1');
    for (const w of connectives) if (s.includes(w)) s = s.split(w).join('，');
    return s.split(CLAUSE_BREAK).filter((c) => c.length >= 2);
  }

  /** The targets `text` names: by its strong words, else by its weak ones. */
  function namedTargets(text: string): TargetType[] {
    const strong = findTargets(text, strongIndex);
    return strong.length > 0 ? strong : findTargets(text, weakIndex);
  }

  /** Whether `text` holds nothing but `words` (longest first) and punctuation. */
  function nothingBut(text: string, words: readonly string[]): boolean {
    let rest = text.replace(PUNCTUATION, '');
    for (const w of words) rest = rest.split(w).join('');
    return rest.length === 0;
  }

  /** A negation anywhere in `text`, not inside an exception (退不退, 不能退). */
  function negatedWhole(text: string): boolean {
    for (const re of negations) {
      re.lastIndex = 0;
      for (const m of text.matchAll(re)) {
        const around = text.slice(Math.max(0, m.index - 3), m.index + m[0].length + 3);
        if (!exceptions.some((e) => around.includes(e))) return true;
      }
    }
    return false;
  }

  return {
    fixTypos(text) {
      let s = '';
      for (let i = 0; i < text.length; ) {
        const hit = typoIndex.get(text[i]!)?.find(([wrong]) => text.startsWith(wrong, i));
        if (hit) {
          s += hit[1];
          i += hit[0].length;
        } else {
          s += text[i];
          i++;
        }
      }
      if (latinWords.size > 0 && /[a-z]/.test(s)) s = s.replace(latinRun, (run) => latinWords.get(run) ?? splitLatin(run, latinWords, maxLatin) ?? run);
      return s;
    },
    maskDates(text, placeholder) {
      if (!/\d/.test(text)) return text;
      let s = text;
      for (const re of datePatterns) s = s.replace(re, placeholder);
      return address ? s.replace(address, placeholder) : s;
    },
    onlyDates(text) {
      if (!/\d/.test(text)) return false;
      let s = text;
      for (const re of datePatterns) s = s.replace(re, ' ');
      if (s === text) return false;
      for (const w of dayWords) if (s.includes(w)) s = s.split(w).join(' ');
      return s.replace(PUNCTUATION, '').length === 0;
    },
    clauses(text) {
      return clausesOf(text);
    },
    negated(text) {
      if (!negatedWhole(text)) return false;
      // 把视频彩铃退了，号码先保留: the negated clause is about something other than what another
      // clause, not negated, names; that one is the request, so the message is not taken back.
      const parts = clausesOf(text);
      if (parts.length < 2) return true;
      const named = parts.map((clause) => ({ negated: negatedWhole(clause), targets: namedTargets(clause) }));
      const asked = named.filter((c) => !c.negated && c.targets.length > 0);
      if (asked.length === 0) return true;
      return named.some((c) => c.negated && (c.targets.length === 0 || c.targets.some((t) => asked.some((a) => a.targets.includes(t)))));
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
    pastesSms(text) {
      return operatorOpeners.some((w) => text.includes(w));
    },
    saysNoAlone(text) {
      return noAlone !== null && noAlone.test(text.replace(PUNCTUATION, ''));
    },
    declinesAlone(text) {
      return declineAlone !== null && declineAlone.test(text.replace(PUNCTUATION, ''));
    },
    bareCancel(masked) {
      return bareCancel.test(masked.replace(PUNCTUATION, ''));
    },
    asksIfBot(text) {
      return botIdentity !== null && botIdentity.test(text.replace(PUNCTUATION, ''));
    },
    userWords(text) {
      const rest = text.replace(smsReplyAll, '，').replace(/【[^】]*】/g, '，');
      return rest.split(CLAUSE_BREAK).filter((c) => c.length > 0 && !operatorWording.some((w) => c.includes(w))).join('，');
    },
    wantsHuman(text) {
      if (humanNegation.some((w) => text.includes(w))) return false;
      return human.some((w) => text.includes(w));
    },
    notUnsubscribe(text, namesProduct) {
      if (cancelWords.some((w) => text.includes(w))) {
        return !namesProduct && shopWords.some((w) => text.includes(w));
      }
      return orderingVerbs(text).length > 0 || shopWords.some((w) => text.includes(w));
    },
    noneOfThese(text) {
      return lexicon.choice.noneOfThese.some((w) => text.includes(w));
    },
    notThisOne(text) {
      return lexicon.choice.notThisOne.some((w) => text.includes(w));
    },
    ordersSomething(text) {
      // 办理 alone (我要办理) may as well be about the cancellation in progress.
      return !cancelWords.some((w) => text.includes(w)) && orderingVerbs(text).some((w) => w !== GENERIC_ORDER_VERB);
    },
    aboutShopOrder(text, namesProduct) {
      return !namesProduct && shopWords.some((w) => text.includes(w));
    },
    aboutAccount(text) {
      return lexicon.accountQueries.words.some((w) => text.includes(w));
    },
    aboutMarketingSms(text) {
      return lexicon.marketingSms.words.some((w) => text.includes(w));
    },
    yesAsked(text) {
      return yesVetoes !== null && yesVetoes.question.test(text);
    },
    yesRefused(text) {
      return yesVetoes !== null && yesVetoes.refused.test(text);
    },
    submitsAlone(text) {
      return submitAlone !== null && submitAlone.test(text.replace(PUNCTUATION, ''));
    },
    claimsNeverOrdered(text) {
      return lexicon.neverOrdered.words.some((w) => text.includes(w));
    },
    asksHotline(text) {
      return lexicon.hotline.words.some((w) => text.includes(w));
    },
    asksOrderRecord(text) {
      return orderRecord !== null && orderRecord.test(text);
    },
    asksOtherNumber(text) {
      return otherNumber !== null && otherNumber.test(text);
    },
    forgotSecret(text) {
      return lexicon.forgotSecret.forget.some((w) => text.includes(w)) && lexicon.forgotSecret.secrets.some((w) => text.includes(w));
    },
    onlyNames(masked) {
      return PLACEHOLDERS.test(masked) && nothingBut(masked.replace(PLACEHOLDERS_ALL, ''), nameFiller);
    },
    keepsNumber(text) {
      if (!keepNumber || !keepNumber.keep.test(text) || keepNumber.not.test(text)) return false;
      const named = namedTargets(text);
      return named.length === 1 && named[0] === 'number';
    },
    aboutBoundAccounts(text) {
      return lexicon.boundAccounts.words.some((w) => text.includes(w));
    },
    asksNewCode(text) {
      if (!lexicon.codeTrouble.words.some((w) => text.includes(w))) return false;
      // 还没收到: the trouble alone, nothing else said, is about the code too.
      return lexicon.codeTrouble.subjects.some((w) => text.includes(w)) || nothingBut(text, troubleAlone);
    },
    targets(text, includeWeak) {
      return includeWeak ? namedTargets(text) : findTargets(text, strongIndex);
    },
  };
}

/**
 * before + verbFirst + owner + products + after, before + owner + products + verbAfter + after,
 * before + 把 + owner + products + verbBa + after, before + alone + after, or before + describedVerb
 * + describer + a short description + describedEnd + after; or, asking how,
 * before + owner + products + how + howVerb + askAfter and before + how + howAlone + askAfter: one
 * anchored pattern. Products are one or more placeholders, joined by 和/跟/及/与 or nothing.
 */
function bareCancelPattern(words: Lexicon['bareCancel']): RegExp {
  const alt = (list: readonly string[]) => `(?:${alternation(list)})`;
  const one = `[${Object.values(PRODUCT_PLACEHOLDER).join('')}]`;
  const products = `${alt(words.owners)}${one}(?:[\u548c\u8ddf\u53ca\u4e0e]?${one})*`;
  const forms = [`${alt(words.verbFirst)}${products}`, `${products}${alt(words.verbAfter)}`, `\u628a${products}${alt(words.verbBa)}`];
  if (words.alone.length > 0) forms.push(alt(words.alone));
  if (words.describedVerbs.length > 0 && words.describers.length > 0 && words.describedEnd.length > 0) {
    // The description: a few characters, none of them a question or a clause break.
    forms.push(`${alt(words.describedVerbs)}${alt(words.describers)}[^\u5417\u4e48\u5462\u5565\u54ea\u8c01\uff1f?\uff0c,\s]{1,20}?${alt(words.describedEnd)}`);
  }
  const commands = `^${alt(words.before)}(?:${forms.join('|')})${alt(words.after)}$`;
  if (words.how.length === 0 || words.howVerb.length === 0) return new RegExp(commands);
  const asks = [`${products}${alt(words.how)}${alt(words.howVerb)}`];
  if (words.howAlone.length > 0) asks.push(`${alt(words.how)}${alt(words.howAlone)}`);
  const question = `^${alt(words.before)}(?:${asks.join('|')})${alt(words.askAfter)}$`;
  return new RegExp(`${commands}|${question}`);
}
