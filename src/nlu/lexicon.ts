import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { DATA_ASSETS_DIR } from '../paths.js';

/** Folder holding the NLU data files (lexicon, user dictionary, corpus). */
export const NLU_DATA_DIR = join(DATA_ASSETS_DIR, 'nlu');

const targetLists = z.object({
  number: z.array(z.string()).default([]),
  broadband: z.array(z.string()).default([]),
  plan: z.array(z.string()).default([]),
  addon: z.array(z.string()).default([]),
  vas: z.array(z.string()).default([]),
});

const lexiconSchema = z.object({
  targets: z.object({ strong: targetLists, weak: targetLists }),
  categoryAliases: z.object({ words: z.array(z.string()) }),
  /** A catalogue name's head said without its generic tail (音乐 for 音乐会员): see service-matcher.ts. */
  partialNames: z.object({ suffixes: z.array(z.string()), except: z.array(z.string()).default([]) }).default({ suffixes: [], except: [] }),
  negation: z.array(z.string()),
  negationExceptions: z.array(z.string()),
  human: z.array(z.string()),
  humanNegation: z.array(z.string()),
  smsCommands: z.object({
    exact: z.array(z.string()),
    pattern: z.string(),
    reply: z.string(),
    /** Words only an operator's SMS uses (尊敬的, 资费): a clause with one is the SMS, not the user. */
    operatorWording: z.array(z.string()).default([]),
    /** Words an operator's SMS opens with (【, 尊敬的): the message pastes one, with or without a reply instruction. */
    operatorOpeners: z.array(z.string()).default([]),
  }),
  /** A whole-message question whether the bot is a machine. */
  botIdentity: z.object({ pattern: z.string() }).optional(),
  /** A whole message that is a cancelling verb and products, nothing else (see rules.bareCancel). */
  bareCancel: z.object({
    before: z.array(z.string()),
    owners: z.array(z.string()),
    verbFirst: z.array(z.string()).min(1),
    verbAfter: z.array(z.string()).min(1),
    verbBa: z.array(z.string()).min(1),
    after: z.array(z.string()),
    /** 宽带怎么退啊: products, a how-word and a cancelling verb, ending the message (askAfter). */
    how: z.array(z.string()).default([]),
    howVerb: z.array(z.string()).default([]),
    askAfter: z.array(z.string()).default(['']),
    /** 我想退订, 帮我办理退订: a cancelling verb that needs no product to be a request (退订, unlike 取消). */
    alone: z.array(z.string()).default([]),
    /** 怎么退订: a how-word and one of these, with no product, asks how to cancel (unlike 怎么取消, which may be about the dialog). */
    howAlone: z.array(z.string()).default([]),
    /**
     * 我要退订那个每天发天气预报的: a cancelling verb (not 取消, which may be about the dialog), a pointing word and
     * a description ending in one of describedEnd, with no question word in it: a service described instead of named.
     */
    describedVerbs: z.array(z.string()).default([]),
    /** 不要退了: a pattern (matched without punctuation) for a whole message that takes the request back. */
    declineAlone: z.string().optional(),
    /** 不了 / 不需要了: a pattern (matched without punctuation) for a whole message that only says no. */
    noAlone: z.string().optional(),
    describers: z.array(z.string()).default([]),
    describedEnd: z.array(z.string()).default([]),
  }),
  choice: z.object({
    all: z.array(z.string()),
    joiners: z.array(z.string()),
    ordinalSuffix: z.array(z.string()),
    ordinalPrefix: z.string(),
    bareNumerals: z.record(z.string(), z.number().int()),
    spokenAll: z.array(z.string()),
    /** 不是这个, 选错了: what was picked or proposed is not what the user meant. */
    notThisOne: z.array(z.string()).default([]),
    /** 都不是, 没有我要的: nothing in the list shown is what the user meant. */
    noneOfThese: z.array(z.string()).default([]),
    /** A run of the list from either end (前两个, 最后一个). */
    firstWords: z.array(z.string()).default([]),
    lastWords: z.array(z.string()).default([]),
    /** Characters that make a run word part of another word (以前, 然后) or a run a time span (前两个月). */
    runNotAfter: z.array(z.string()).default([]),
    runNotBefore: z.array(z.string()).default([]),
    /** 最后那个: a demonstrative in place of the count, meaning one. */
    runDemonstratives: z.array(z.string()).default([]),
    /** Words after an exception that mean "the rest" as 其他 does (除了视频彩铃都退). */
    exceptAll: z.array(z.string()).default([]),
    /** Everything but some (除了…都退, …留着其他都退): see the data file's comment. */
    exceptWords: z.array(z.string()).default([]),
    keepWords: z.array(z.string()).default([]),
    onlyKeepWords: z.array(z.string()).default([]),
    restWords: z.array(z.string()).default([]),
    cancelWords: z.array(z.string()).default([]),
    negatedCancelWords: z.array(z.string()).default([]),
    leadingWords: z.array(z.string()),
    trailingWords: z.array(z.string()),
  }),
  /** Words that only introduce an identifier (我的号码是, 验证码): a message of these plus identifiers is just the answer. */
  identifierLabels: z.array(z.string()).default([]),
  /** English words and phrases read as Chinese ones (cancel my data pack → 取消我的流量包), and English words that carry nothing. */
  english: z.object({
    phrases: z.record(z.string(), z.string()),
    drop: z.array(z.string()).default([]),
    /** What the glossary gives for words that carry no request (my → 我的, please → 请): alone with unknown English, nothing was understood. */
    function: z.array(z.string()).default([]),
  }).default({ phrases: {}, drop: [], function: [] }),
  /** A monthly fee a service is described by (10块钱的那个): the currency words after the digits. */
  amount: z.object({
    units: z.array(z.string()),
    /** 每月30的: words of a monthly charge before a bare number, which then is an amount in yuan. */
    periods: z.array(z.string()).default([]),
    /** What after the bare number makes it no amount (30G, 30个, 30号). */
    notUnits: z.array(z.string()).default([]),
  }).default({ units: [], periods: [], notUnits: [] }),
  /** 验证码没收到 / 重新发验证码: a subject word and a trouble word both in the message. */
  codeTrouble: z.object({ subjects: z.array(z.string()), words: z.array(z.string()), alone: z.array(z.string()).default([]) }).default({ subjects: [], words: [], alone: [] }),
  /** Payment and bank accounts that may be tied to the number (支付宝, 银行卡, 绑定): see Rules.aboutBoundAccounts. */
  boundAccounts: z.object({ words: z.array(z.string()) }).default({ words: [] }),
  marketingSms: z.object({ words: z.array(z.string()) }).default({ words: [] }),
  /** 确定吗 / 确认不了 / 提交吧: patterns of a yes that is a question, of a yes refused, and of 提交 alone as a yes. See Rules.yesAsked, yesRefused, submitsAlone. */
  yesVetoes: z.object({ question: z.string(), refused: z.string(), submitAlone: z.string().optional() }).optional(),
  /** 没订过 / 不是我开的: words that say a service was never ordered. See Rules.claimsNeverOrdered. */
  neverOrdered: z.object({ words: z.array(z.string()) }).default({ words: [] }),
  /** 客服电话多少: words of asking for the customer-service phone number. See Rules.asksHotline. */
  hotline: z.object({ words: z.array(z.string()) }).default({ words: [] }),
  /** 视频彩铃 / 那个流量包 alone: words that may stand around product names without saying anything. See Rules.onlyNames. */
  bareName: z.object({ filler: z.array(z.string()) }).default({ filler: [] }),
  /** 忘了服务密码 / 身份证不在身边: a forgetting word and a secret word both in the message. */
  forgotSecret: z.object({ forget: z.array(z.string()), secrets: z.array(z.string()) }).default({ forget: [], secrets: [] }),
  /** 什么时候开通的 / 开通记录: a pattern (on the normalised text) of asking when or how a service was ordered. */
  orderRecord: z.object({ pattern: z.string() }).optional(),
  /** 换个号码 / 用我另一个号码: a pattern (on the normalised text) of using another number. */
  otherNumber: z.object({ pattern: z.string() }).optional(),
  /** 停机保号 / 号码先保留: patterns (matched on the normalised text) of keeping the number unused, and of turning that down. See Rules.keepsNumber. */
  keepNumber: z.object({ keep: z.string(), not: z.string() }).optional(),
  accountQueries: z.object({ words: z.array(z.string()) }).default({ words: [] }),
  vetoes: z.object({
    orderVerbs: z.array(z.string()),
    cancelWords: z.array(z.string()),
    shopWords: z.array(z.string()),
    /** Descriptions of an order already made (自动续订, 已开通): not the user ordering anything. */
    notOrders: z.array(z.string()).default([]),
  }),
  mask: z.object({ keep: z.array(z.string()), extra: z.record(z.string(), z.enum(['vas', 'addon', 'plan', 'broadband'])) }),
  typos: z.object({
    map: z.record(z.string(), z.string()),
    latin: z.record(z.string(), z.string()).default({}),
    /** Key words and per-character homophones: one swapped character still reads as the word. */
    homophones: z.object({ words: z.array(z.string()), chars: z.record(z.string(), z.array(z.string())), except: z.array(z.string()).default([]) })
      .default({ words: [], chars: {}, except: [] }),
    /** Regional words and their Mandarin equivalents. */
    dialect: z.object({ map: z.record(z.string(), z.string()) }).default({ map: {} }),
  }),
  /** Dates, clock times and long digit runs (regexes), day words that go with them, and the number part of a street address. */
  datesAndTimes: z.object({ patterns: z.array(z.string()), dayWords: z.array(z.string()).default([]), addressPattern: z.string().optional() })
    .default({ patterns: [], dayWords: [] }),
  /** Words that open a new clause in a message typed or dictated without punctuation. */
  clauseConnectives: z.object({ words: z.array(z.string()) }).default({ words: [] }),
  numerals: z.object({
    digits: z.record(z.string(), z.number().int()),
    units: z.record(z.string(), z.number().int()),
    after: z.array(z.string()),
    before: z.array(z.string()),
    keepWords: z.array(z.string()),
  }),
});

/** The NLU's Chinese keyword data (data/nlu/lexicon.json), validated. */
export type Lexicon = z.infer<typeof lexiconSchema>;

/** Reads and validates a lexicon file. Throws AppError 'config.invalid' naming the file. */
export function loadLexicon(file: string = join(NLU_DATA_DIR, 'lexicon.json')): Lexicon {
  try {
    return lexiconSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new AppError('config.invalid', { cause: err, message: `NLU lexicon ${file} is invalid: ${(err as Error).message}` });
  }
}
