import { join } from 'node:path';
import type { Catalogue, TargetType } from '../domain/types.js';
import { PROJECT_ROOT } from '../paths.js';
import { trainIntentClassifier, type IntentClassifier, type ModelKind } from './classifier.js';
import { loadCorpus, type CorpusExample } from './corpus.js';
import { createIdentifierExtractor } from './entities.js';
import { extractFeatures } from './features.js';
import { loadLexicon, type Lexicon } from './lexicon.js';
import { type Intent, type Nlu, type NluContext, type NluResult } from './nlu.js';
import { createProductMasker } from './mask.js';
import { createNormalizer } from './normalize.js';
import { createRules } from './rules.js';
import { createSegmenter, USER_DICT_FILE } from './segment.js';
import { createServiceMatcher } from './service-matcher.js';

export type { Nlu, NluContext, NluResult, Intent, Choice } from './nlu.js';
export { INTENTS } from './nlu.js';

export interface NluOptions {
  /** Training examples; default: the whole of data/nlu/corpus.jsonl. */
  examples?: readonly CorpusExample[];
  /** Corpus file read when `examples` is not given. */
  corpusFile?: string;
  /** Keyword data; default: data/nlu/lexicon.json. */
  lexicon?: Lexicon;
  /** Domain words for jieba; default: data/nlu/user-dict.txt. */
  userDictFile?: string;
  /** Intent model; default 'bayes' (natural's naive Bayes). 'logistic' is kept for comparison. */
  model?: ModelKind;
  /**
   * Where trained models are cached (keyed by a hash of the training features, so a changed
   * corpus, lexicon or dictionary trains afresh); null turns the cache off.
   * Default: node_modules/.cache/tuiding-nlu.
   */
  cacheDir?: string | null;
}

/** Default model cache: inside node_modules, so it is never committed and goes with a clean install. */
export const MODEL_CACHE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'tuiding-nlu');

/** An Nlu plus what it was built from, for evaluation and diagnostics. */
export interface TrainedNlu extends Nlu {
  readonly classifier: IntentClassifier;
  /** Classifier features of an utterance, as used for training. */
  featuresOf(text: string): string[];
}

/** Fixed confidences for rule decisions: high, but below 1 so the dialog can still rank them. */
const RULE_CONFIDENCE = { sms: 0.99, human: 0.97, identifiers: 0.95, bareCancel: 0.95, exception: 0.95, empty: 1, noEvidence: 0.5, bareName: 0.55 } as const;
/** Readings a message of nothing but product names (视频彩铃) yields from: it says nothing else. */
const BARE_NAME_FROM: ReadonlySet<Intent> = new Set(['other', 'help', 'greeting']);
/** Intents a negated unsubscribe request may fall back to; anything else becomes 'cancel'. */
const NEGATED_FALLBACKS: ReadonlySet<string> = new Set([
  'cancel', 'undo', 'query_status', 'still_charged', 'unwanted_charge', 'fee_question', 'receipt', 'lost_phone', 'review', 'help', 'human_agent', 'deny', 'other',
]);
const NEGATED_EXCLUDED: ReadonlySet<string> = new Set(['unsubscribe', 'confirm']);
const VETO_EXCLUDED: ReadonlySet<string> = new Set(['unsubscribe']);
/** Readings a shop-order message keeps: the conversation itself, not a telecom request. */
const SHOP_KEEPS: ReadonlySet<Intent> = new Set(['human_agent', 'help', 'greeting', 'confirm', 'deny', 'cancel', 'other']);
/** Intents about a cancellation or a charge: a category word (会员, 宽带) sets their target. */
const UNSUBSCRIBE_LIKE: ReadonlySet<Intent> = new Set(['unsubscribe', 'query_status', 'still_charged', 'unwanted_charge', 'undo', 'fee_question']);
/** Whole-message readings that may hide a request in one clause of a long message. */
const BURYING: ReadonlySet<Intent> = new Set(['other', 'help', 'greeting']);
/** Clause readings that only make sense as a whole reply, never as a buried request. */
const NOT_BURIED: ReadonlySet<Intent> = new Set(['confirm', 'deny', 'cancel']);
/**
 * Complaints that become a request when a clause asks outright (多收了6块，不知道是啥，我要关掉):
 * the explicit request wins, as it always has for 没开过…给我退了.
 */
const REQUEST_WINS: ReadonlySet<Intent> = new Set(['unwanted_charge', 'review']);
const BURIED_MIN_CONFIDENCE = 0.9;
/** Below this the dialog asks what was meant (its CLARIFY_BELOW): a clause that asks outright is better evidence. */
const UNSURE_BELOW = 0.6;
/** A letter of any script or a digit. */
const WORDLIKE = /[\p{L}\p{N}]/u;
const LATIN_ONLY = /^[a-z0-9\s!-/:-@[-`{-~]+$/;
/** Placeholder for a date, clock time or long digit run in classifier input: a private-use code point. */
const DATE_PLACEHOLDER = '\uE010';
/**
 * A pasted operator SMS (回复TD退订) means "cancel this" unless the user says something more
 * specific around it: that it was never ordered, that it is still charged, or what it would cost.
 */
const OVERRIDES_QUOTED_SMS: ReadonlySet<string> = new Set([
  'unwanted_charge', 'still_charged', 'fee_question', 'review', 'undo', 'receipt', 'lost_phone', 'query_status', 'human_agent',
]);

/**
 * Builds the NLU: loads the lexicon and jieba (about 0.25 s, shared per process) and trains the
 * intent classifier on the corpus (about 1 s), or reads the model trained before on the same
 * features from the cache (a few ms). Synchronous. Throws AppError 'config.invalid'
 * when a data file is missing or malformed.
 */
export function createNlu(catalogue: Catalogue, options: NluOptions = {}): TrainedNlu {
  const lexicon = options.lexicon ?? loadLexicon();
  const normalize = createNormalizer(lexicon);
  const segmenter = createSegmenter(options.userDictFile ?? USER_DICT_FILE);
  const rules = createRules(lexicon);
  const identifiers = createIdentifierExtractor(lexicon);
  const matcher = createServiceMatcher(catalogue, normalize, lexicon.categoryAliases.words, lexicon.partialNames);
  const singleServiceOf = new Map<TargetType, string>();
  for (const target of ['vas', 'addon', 'plan', 'broadband', 'number'] as const) {
    const ids = catalogue.services.filter((s) => s.target === target).map((s) => s.id);
    if (ids.length === 1) singleServiceOf.set(target, ids[0]!);
  }

  const mask = createProductMasker(catalogue, lexicon, normalize);
  /** Each service's name and aliases as normalised text, longest first: cut out of a message to see what else it names. */
  const namesOf = new Map(catalogue.services.map((s) => [s.id, [...new Set([s.name, ...s.aliases].map(normalize))].sort((a, b) => b.length - a.length)]));
  /** Typo-fixed normalised text as the classifier reads it: dates and product names replaced by placeholders. */
  const maskedOf = (fixed: string): string => mask(rules.maskDates(fixed, DATE_PLACEHOLDER));
  const featuresOfMasked = (masked: string): string[] => extractFeatures(masked, segmenter.cut(masked));
  /** Classifier features of typo-fixed normalised text. */
  const featuresOfFixed = (fixed: string): string[] => featuresOfMasked(maskedOf(fixed));
  const featuresOfNormalized = (normalized: string): string[] => featuresOfFixed(rules.fixTypos(normalized));
  const examples = options.examples ?? loadCorpus(options.corpusFile);
  const classifier = trainIntentClassifier(
    examples.map((ex) => ({ features: featuresOfNormalized(normalize(ex.text)), label: ex.intent })),
    { model: options.model ?? 'bayes', ...(options.cacheDir === null ? {} : { cacheDir: options.cacheDir ?? MODEL_CACHE_DIR }) },
  );

  /** The most probable label outside `excluded`, its probability renormalised over the labels left. */
  function bestExcluding(probabilities: Float64Array, excluded: ReadonlySet<string>, allowed: (label: string) => boolean): { label: string; confidence: number } | null {
    let best = -1;
    let mass = 0;
    classifier.labels.forEach((label, c) => {
      if (excluded.has(label)) return;
      mass += probabilities[c]!;
      if (allowed(label) && (best < 0 || probabilities[c]! > probabilities[best]!)) best = c;
    });
    if (best < 0 || mass <= 0) return null;
    return { label: classifier.labels[best]!, confidence: probabilities[best]! / mass };
  }

  const englishFunctionWords = [...lexicon.english.function].sort((a, b) => b.length - a.length);
  /**
   * English the glossary did not know, around nothing but the words it gives for my, please, can you
   * (my wifi router is broken → 我的 wifi router broken): the model would read 我的 alone.
   */
  function onlyUnknownEnglish(fixed: string): boolean {
    if (!/[a-z]{2}/.test(fixed)) return false;
    let content = fixed.replace(/[a-z]+/g, (word) => (classifier.known([`w:${word}`]) > 0 ? word : ' '));
    for (const w of englishFunctionWords) content = content.split(w).join(' ');
    return !/[^\s\d!-/:-@[-`{-~，。！？、；：“”‘’（）]/.test(content);
  }

  function decideIntent(normalized: string, fixed: string, masked: string, features: string[], negated: boolean, namesProduct: boolean, answerOnly: boolean, ticket: string | null, unknownEnglish: boolean): { intent: Intent; confidence: number } {
    // A bare number, code or list pick answers the question the dialog asked; it carries no intent of its own.
    if (answerOnly) return { intent: ticket ? 'query_status' : 'other', confidence: RULE_CONFIDENCE.identifiers };
    // 😡😡😡, ？？？: no word at all (the emoji that are words, 👌 for 好的, were read as words already).
    if (!WORDLIKE.test(fixed)) return { intent: 'other', confidence: RULE_CONFIDENCE.noEvidence };
    if (!negated && rules.smsCommand(normalized)) return { intent: 'unsubscribe', confidence: RULE_CONFIDENCE.sms };
    // 退订宽带, 把套餐退了: a verb and products, nothing else; too few words for the model to weigh.
    if (!negated && rules.bareCancel(masked)) return { intent: 'unsubscribe', confidence: RULE_CONFIDENCE.bareCancel };
    if (!negated && rules.quotesSmsCommand(normalized)) {
      // The instruction and the SMS around it are the operator's wording: read what the user added.
      const own = rules.userWords(normalized);
      if (own.length < 2) return { intent: 'unsubscribe', confidence: RULE_CONFIDENCE.sms };
      const around = classifier.predict(featuresOfFixed(rules.fixTypos(own)));
      if (OVERRIDES_QUOTED_SMS.has(around.label)) return { intent: around.label as Intent, confidence: around.confidence };
      return { intent: 'unsubscribe', confidence: RULE_CONFIDENCE.sms };
    }
    // A pasted operator SMS without a reply instruction: what the user added says what they want.
    const own = rules.pastesSms(normalized) ? rules.fixTypos(rules.userWords(normalized)) : '';
    const prediction = classifier.predict(own.length >= 2 ? featuresOfFixed(own) : features);
    const intent = prediction.label as Intent;
    if (rules.asksIfBot(fixed)) return { intent: 'other', confidence: RULE_CONFIDENCE.identifiers };
    if (unknownEnglish) return { intent: 'other', confidence: RULE_CONFIDENCE.noEvidence };
    if (rules.wantsHuman(fixed)) {
      return { intent: 'human_agent', confidence: intent === 'human_agent' ? Math.max(prediction.confidence, RULE_CONFIDENCE.human) : RULE_CONFIDENCE.human };
    }
    // 不要退了: taken back in so many words; the model can read the negated verb as undoing a filing.
    if (negated && rules.declinesAlone(fixed)) return { intent: 'cancel', confidence: RULE_CONFIDENCE.bareCancel };
    // 不了 / 不需要了 alone: a plain no (不了 reads as a request to the model).
    if (rules.saysNoAlone(fixed)) return { intent: 'deny', confidence: RULE_CONFIDENCE.bareCancel };
    // 提交 / 帮我提交 alone: the yes the confirmation asks for (the model reads a question about a submission).
    if (!negated && rules.submitsAlone(fixed)) return { intent: 'confirm', confidence: RULE_CONFIDENCE.bareCancel };
    // A yes files a request, so it must be one: 确认不了 / 确认个屁 is a no, 确定吗 / 确认？ a question
    // (read as nothing in particular, so the dialog asks again).
    if (intent === 'confirm' && rules.yesRefused(normalized)) return { intent: 'deny', confidence: RULE_CONFIDENCE.bareCancel };
    if (intent === 'confirm' && rules.yesAsked(normalized)) return { intent: 'other', confidence: RULE_CONFIDENCE.noEvidence };
    if (negated && (intent === 'unsubscribe' || intent === 'confirm')) {
      // A taken-back request: the best remaining reading, where "something else" means abandoning the dialog.
      const next = bestExcluding(prediction.probabilities, NEGATED_EXCLUDED, (l) => NEGATED_FALLBACKS.has(l));
      const label = next?.label ?? 'cancel';
      return { intent: (label === 'other' ? 'cancel' : label) as Intent, confidence: next?.confidence ?? 0.5 };
    }
    if (intent === 'unsubscribe' && rules.notUnsubscribe(fixed, namesProduct)) {
      const next = bestExcluding(prediction.probabilities, VETO_EXCLUDED, () => true);
      return { intent: (next?.label ?? 'other') as Intent, confidence: next?.confidence ?? 0.5 };
    }
    // 退货, 淘宝订单退款: a shop's order, whatever the verbs around it, is out of scope.
    if (!SHOP_KEEPS.has(intent) && rules.aboutShopOrder(fixed, namesProduct)) return { intent: 'other', confidence: Math.max(prediction.confidence, 0.5) };
    // Nothing the model ever saw (🙂, asdfgh, ？？？): its answer would be the class prior, not a reading.
    if (classifier.known(features) === 0) return { intent: 'other', confidence: RULE_CONFIDENCE.noEvidence };
    // Latin words the model never saw (an English service name, Night-time data pack): their letter pairs are noise.
    if (LATIN_ONLY.test(fixed) && classifier.known(features.filter((f) => f.startsWith('w:') && !f.startsWith('w:#'))) === 0) {
      return { intent: 'other', confidence: RULE_CONFIDENCE.noEvidence };
    }
    return { intent, confidence: prediction.confidence };
  }

  /**
   * A long message whose whole reads as chat or context (我用了十几年了，最近话费…，麻烦帮我退了，
   * 真的很无语) may still carry one clear request in one of its clauses: the most confident
   * actionable clause wins, when it is confident enough and the whole message allows it. With
   * `only`, just that reading of a clause counts.
   */
  function buriedRequest(fixed: string, negated: boolean, namesProduct: boolean, only: Intent | null): { intent: Intent; confidence: number } | null {
    const clauses = rules.clauses(fixed);
    if (clauses.length < 2) return null;
    let best: { intent: Intent; confidence: number } | null = null;
    for (const clause of clauses) {
      // 我想退订，…: a clause that is a bare request by rule is as sure as that rule (unless the message orders something).
      const byRule = !negated && rules.bareCancel(maskedOf(clause)) && !rules.notUnsubscribe(fixed, namesProduct);
      const p = byRule ? { label: 'unsubscribe', confidence: RULE_CONFIDENCE.bareCancel } : classifier.predict(featuresOfFixed(clause));
      const label = p.label as Intent;
      if (BURYING.has(label) || NOT_BURIED.has(label) || (only && label !== only) || p.confidence < BURIED_MIN_CONFIDENCE) continue;
      if (label === 'unsubscribe' && (negated || rules.notUnsubscribe(fixed, namesProduct))) continue;
      if (!best || p.confidence > best.confidence) best = { intent: label, confidence: p.confidence };
    }
    return best;
  }

  /**
   * Whether a clause of `fixed` other than the request read is a request of its own to close the
   * number (顺便把号也销了), read as a message by itself: a number given (我的手机号是…) or kept (号码不变) is not.
   */
  function closesNumberBeside(fixed: string, target: TargetType): boolean {
    const clauses = rules.clauses(fixed);
    if (clauses.length < 2) return false;
    return clauses.some((clause) => {
      if (!rules.targets(clause, true).includes('number') || rules.targets(clause, true).includes(target) || rules.keepsNumber(clause)) return false;
      const p = parse(clause);
      return p.intent === 'unsubscribe' && p.target === 'number' && !p.negated && p.msisdn === null;
    });
  }

  function parse(text: string, context?: NluContext): NluResult {
    const raw = typeof text === 'string' ? text : String(text ?? '');
    const normalized = normalize(raw);
    const negated = rules.negated(normalized);
    const ids = identifiers.extract(normalized, negated);
    const base = {
      text: raw, normalized, negated, msisdn: ids.msisdn, code: ids.code, idTail: ids.idTail, feeFen: ids.feeFen, choice: ids.choice, ticket: ids.ticket,
      asksNewCode: rules.asksNewCode(normalized), strayDigits: ids.strayDigits, aboutBoundAccounts: rules.aboutBoundAccounts(normalized), ordersSomething: rules.ordersSomething(normalized), aboutMarketingSms: rules.aboutMarketingSms(normalized), keepsNumber: rules.keepsNumber(normalized), forgotSecret: rules.forgotSecret(normalized), asksOtherNumber: rules.asksOtherNumber(normalized), asksOrderRecord: rules.asksOrderRecord(normalized), asksHotline: rules.asksHotline(normalized), claimsNeverOrdered: rules.claimsNeverOrdered(normalized), notAYes: rules.yesAsked(normalized) || rules.yesRefused(normalized), aboutAccount: rules.aboutAccount(normalized), aboutBot: rules.asksIfBot(rules.fixTypos(normalized)), notThisOne: rules.notThisOne(normalized), noneOfThese: rules.noneOfThese(normalized),
    };
    if (normalized.length === 0) {
      return { ...base, intent: 'other', confidence: RULE_CONFIDENCE.empty, target: null, serviceIds: [] };
    }
    const fixed = rules.fixTypos(normalized);
    const strongTargets = rules.targets(fixed, false);
    // A bare date or time (2026-11-24, 明天下午3点) answers a question; like a bare number it asks for nothing.
    const answerOnly = ids.onlyIdentifiers || ids.onlyChoice || rules.onlyDates(normalized);
    // A bare answer is decided without the model: its features are not worth cutting words for.
    const masked = answerOnly ? '' : maskedOf(fixed);
    const features = answerOnly ? [] : featuresOfMasked(masked);
    const unknownEnglish = !answerOnly && onlyUnknownEnglish(fixed);
    let { intent, confidence } = decideIntent(normalized, fixed, masked, features, negated, strongTargets.length > 0, answerOnly, ids.ticket, unknownEnglish);
    // 退订宽带，我的号码是138…: with the number (and its label) set aside, a bare request by rule.
    if (!answerOnly && !negated && intent !== 'unsubscribe' && ids.besideIdentifiers && rules.bareCancel(maskedOf(rules.fixTypos(ids.besideIdentifiers)))) {
      ({ intent, confidence } = { intent: 'unsubscribe', confidence: RULE_CONFIDENCE.bareCancel });
    }
    // An unsure reading of the whole (喂喂 客服 我要退订那个每天发天气预报的) also yields to one clause that asks outright.
    const unsure = confidence < UNSURE_BELOW;
    if (!answerOnly && !unknownEnglish && (BURYING.has(intent) || REQUEST_WINS.has(intent) || unsure)) {
      // A quoted 回复TD退订 is no request of the user's own.
      const own = rules.quotesSmsCommand(normalized) ? rules.fixTypos(rules.userWords(normalized)) : fixed;
      const buried = buriedRequest(own, negated, strongTargets.length > 0, BURYING.has(intent) && !unsure ? null : 'unsubscribe');
      if (buried) ({ intent, confidence } = buried);
    }
    // 视频彩铃 / 那个流量包 alone: a product and nothing said of it is most likely what is to be
    // cancelled, but not surely, so the dialog asks before it starts.
    if (!answerOnly && !negated && BARE_NAME_FROM.has(intent) && rules.onlyNames(masked)) {
      ({ intent, confidence } = { intent: 'unsubscribe', confidence: RULE_CONFIDENCE.bareName });
    }
    // Words are only needed to match partial names against the user's own subscriptions.
    const matchWords = context?.subscriptions?.length ? segmenter.cut(fixed) : [];

    const categoryTargets = new Set<TargetType>(UNSUBSCRIBE_LIKE.has(intent) ? matcher.categories(fixed) : []);
    const matched = matcher.match(fixed, matchWords, context, categoryTargets);
    const keywordTargets = intent === 'unsubscribe' ? rules.targets(fixed, true) : strongTargets;
    // The number's catalogue aliases are verbs (销户, 销号): said of another product (宽带咋销户) they close that product.
    const verbOnOther = matched[0]?.target === 'number' && keywordTargets[0] !== undefined && keywordTargets[0] !== 'number';
    const matches = verbOnOther ? [...matched.filter((m) => m.target !== 'number'), ...matched.filter((m) => m.target === 'number')] : matched;
    const serviceIds = matches.map((m) => m.serviceId);
    const target = (verbOnOther ? keywordTargets[0] : matches[0]?.target) ?? keywordTargets[0] ?? [...categoryTargets][0] ?? null;
    if (ids.choice?.kind === 'allExcept') {
      // 除了视频彩铃都退了: the services named are the ones kept, and a kind named after the exception
      // (其他增值业务都退) is what is cancelled. With nothing named or numbered it is no pick at all.
      // A kind kept without a name (保留宽带) keeps every service of that kind.
      // 除了视频彩铃和宽带: the services named are cut out first, so that 彩铃 in 视频彩铃 keeps no kind of its own.
      let kept = rules.fixTypos(ids.except?.kept ?? '');
      for (const id of serviceIds) for (const name of namesOf.get(id) ?? []) kept = kept.split(name).join(' ');
      const targets = [...new Set([...matcher.categories(kept), ...rules.targets(kept, false)])];
      if (ids.choice.indexes.length > 0 || serviceIds.length > 0 || targets.length > 0) {
        const rest = rules.fixTypos(ids.except?.rest ?? '');
        const restTarget = matcher.categories(rest)[0] ?? rules.targets(rest, false)[0] ?? null;
        return {
          ...base, negated: false, choice: { ...ids.choice, serviceIds, targets }, intent: 'unsubscribe', confidence: RULE_CONFIDENCE.exception,
          target: restTarget, serviceIds: [],
        };
      }
      base.choice = null;
    }
    if (serviceIds.length === 0 && target && intent === 'unsubscribe') {
      const only = singleServiceOf.get(target);
      if (only) serviceIds.push(only);
    }
    // 流量包, 会员: a generic word names no service, but narrows which of the user's it can mean.
    // 视频彩铃和流量包都退了: a generic word beside named services still stands for its own family.
    const family = UNSUBSCRIBE_LIKE.has(intent) ? matcher.families(fixed, serviceIds).filter((id) => !serviceIds.includes(id)) : [];
    // 我要退宽带，顺便把号也销了: a clause of its own closes the number too, which is a dialog of its own.
    const alsoClosesNumber = intent === 'unsubscribe' && target !== null && target !== 'number' && !negated && closesNumberBeside(fixed, target);
    return { ...base, intent, confidence, target, serviceIds, ...(family.length > 0 ? { family } : {}), ...(alsoClosesNumber ? { alsoClosesNumber } : {}) };
  }

  return {
    classifier,
    featuresOf: (text: string) => featuresOfNormalized(normalize(text)),
    parse(text: string, context?: NluContext): NluResult {
      try {
        return parse(text, context);
      } catch {
        // The contract promises never to throw; a bug here must not end the user's turn.
        return {
          text: String(text), normalized: '', intent: 'other', confidence: 0, negated: false, target: null,
          serviceIds: [], msisdn: null, code: null, idTail: null, feeFen: null, choice: null, ticket: null, asksNewCode: false,
        };
      }
    },
  };
}
