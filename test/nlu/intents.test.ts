import { describe, it, expect } from 'vitest';
import type { Intent } from '../../src/nlu/nlu.js';
import { productionNlu } from './nlu-fixture.js';

const nlu = productionNlu();

const cases: Record<Intent, string[]> = {
  unsubscribe: [
    '我想退订视频彩铃', '帮我把流量包取消了', '怎么退订流量包', '宽带怎么退', '我要销号', '这个号码不用了，帮我注销',
    '每个月扣我10块的那个不要了', '回复TD退订', 'TD', '0000', 'QXCL', '退訂視頻彩鈴', '取销彩铃', '我想消户',
    '５Ｇ包不要了', 'VIP会员帮我关掉', '10元30G的流量包下个月别续了', '129套餐太贵了，我要退', '搬家了，宽带拆机',
  ],
  query_status: ['我的退订办好了吗', '查一下TD20261124000123的进度', '上次退的宽带处理了没', '退订申请到哪一步了', '还要等多久'],
  human_agent: ['转人工', '人工客服', '我要找人工', '你是机器人吧，给我接真人', '能不能让客服来跟我说'],
  cancel: ['算了', '不办了', '不退了', '我不想退订了', '先别取消', '还是留着吧', '取消退订'],
  help: ['你能做什么', '我不会操作', '收不到验证码怎么办', '服务密码忘了怎么办', '你是谁'],
  confirm: ['是的', '对', '确认', '好的', '没问题', '确认退订', '嗯嗯', '可以'],
  deny: ['不是', '不对', '不要', '否', '不是这个号码'],
  greeting: ['你好', '您好', '在吗', 'hello', '早上好'],
  other: ['今天天气怎么样', '讲个笑话', '查话费', '1', '654321', '13812345678', '🙂', '？？？'],
  review: ['我每个月都扣了些什么', '帮我看看有哪些业务', '查一下我订了什么', '我名下都有哪些包月', '看看有没有我没在用的业务'],
  unwanted_charge: ['没订过这个怎么扣费了', '这是什么费用', '莫名其妙扣了我10块', '谁给我开的会员？我不知道啊', '我从来没开过彩铃，怎么在扣钱'],
  still_charged: ['退订了还在扣钱', '取消了怎么还扣费', '宽带都拆了还在收月租', '明明退了流量包，这个月又扣了'],
  undo: ['撤销', '刚才那个别退了', '我反悔了，恢复吧', '刚才的退订申请撤回', '退错了，把刚退的彩铃恢复'],
  receipt: ['把回执再发我一次', '工单号多少来着', '受理单号忘了', '刚才的凭证再发一遍'],
  lost_phone: ['手机丢了', '手机被偷了', '信息泄露了', '手机掉了，先帮我挂失', '我要挂失'],
  fee_question: ['退订会不会扣钱', '退了还能再开吗', '违约金多少', '宽带提前拆机要交钱吗', '销户以后余额怎么退', '违约金能不能免', '套餐提前退，违约金能减免吗'],
};

describe('intent classification', () => {
  for (const [intent, texts] of Object.entries(cases)) {
    it.each(texts)(`reads "%s" as ${intent}`, (text) => {
      expect(nlu.parse(text).intent).toBe(intent);
    });
  }
});

describe('questions about a closure\'s consequences and follow-up requests', () => {
  it('reads a question about the accounts bound to the number as a question about the consequences, not a lost phone', () => {
    for (const text of ['绑定的支付宝怎么办', '微信绑的这个号要先解绑吗', '银行卡预留的是这个号码，会受影响吗', '那我的支付宝呢']) {
      expect(nlu.parse(text).intent, text).toBe('fee_question');
      expect(nlu.parse(text).aboutBoundAccounts, text).toBe(true);
    }
    expect(nlu.parse('违约金多少').aboutBoundAccounts).toBe(false);
    expect(nlu.parse('手机丢了，支付宝怎么办').intent).toBe('lost_phone');
  });

  it('reads 还有…也退了 as one more cancellation, not as still being charged', () => {
    const r = nlu.parse('还有音乐会员也退了');
    expect([r.intent, r.serviceIds]).toEqual(['unsubscribe', ['vas-music-member']]);
    expect(nlu.parse('另外流量包也帮我取消掉').intent).toBe('unsubscribe');
  });

  it('reads products plus how to cancel them as a cancellation (宽带怎么退啊), but not a refund question', () => {
    for (const text of ['流量包咋退啊', '5G加速包怎么退', '套餐如何取消呢']) {
      const r = nlu.parse(text);
      expect(r.intent, text).toBe('unsubscribe');
      expect(r.confidence, text).toBeGreaterThanOrEqual(0.9);
    }
    expect(nlu.parse('宽带退了怎么还扣钱').intent).toBe('still_charged');
  });

  it('reads 退订 with no product as a request, alone or as one clause of a longer message', () => {
    for (const text of ['我想退订', '帮我办理退订']) expect([text, nlu.parse(text).intent, nlu.parse(text).confidence]).toEqual([text, 'unsubscribe', 0.95]);
    const r = nlu.parse('我想退订，但是不知道叫什么名字，就是每个月扣5块的那个');
    expect([r.intent, r.feeFen]).toEqual(['unsubscribe', 500]);
    expect(nlu.parse('不想退订').intent).not.toBe('unsubscribe');
    // Asking how: 怎么退订 is a request; 怎么退款 is no cancellation.
    for (const text of ['怎么退', '如何退订啊']) expect([text, nlu.parse(text).intent, nlu.parse(text).confidence]).toEqual([text, 'unsubscribe', 0.95]);
    expect(nlu.parse('怎么退款').intent).not.toBe('unsubscribe');
  });

  it('reads 退网 said of the number as closing it, and 携号转网 as no closure', () => {
    expect(nlu.parse('这个手机号要退网').target).toBe('number');
    expect(nlu.parse('携号转网怎么办理').intent).not.toBe('unsubscribe');
  });
});

describe('orders', () => {
  it('marks a message that orders something and cancels nothing, but not a bare 办理 or a cancellation', () => {
    for (const text of ['我要开通流量包', '升级5G套餐', '帮我开个视频彩铃']) expect(nlu.parse(text).ordersSomething, text).toBe(true);
    for (const text of ['我要办理', '退订流量包', '已开通的彩铃帮我退了', '办理退订']) expect(nlu.parse(text).ordersSomething, text).toBe(false);
  });

  it('flags messages about the account\'s everyday business', () => {
    for (const text of ['我的话费余额还有多少', '怎么充值', '积分怎么兑换']) expect(nlu.parse(text), text).toMatchObject({ intent: 'other', aboutAccount: true });
    for (const text of ['退订视频彩铃', '话费为什么这么多']) expect(nlu.parse(text).aboutAccount, text).toBe(false);
  });

  it('flags messages about advertising texts, which are no subscription', () => {
    for (const text of ['别再给我发广告短信了', '垃圾短信太多了怎么拒收', '天天收到营销短信烦死了']) expect(nlu.parse(text).aboutMarketingSms, text).toBe(true);
    for (const text of ['退订短信提醒业务', '退订视频彩铃', '验证码短信没收到']) expect(nlu.parse(text).aboutMarketingSms, text).toBe(false);
  });

  it('marks keeping the number unused (停机保号) apart from closing it, and only when the number is all that is named', () => {
    for (const text of ['我在国外，手机号要停一段时间', '办理停机保号', '号码想先保留，暂时不用', '我想停机保号，不是销号', '这个号先停用一下', 'suspend my number']) {
      expect(nlu.parse(text).keepsNumber, text).toBe(true);
    }
    for (const text of ['我要销号', '不要停机保号，直接销号', '把视频彩铃退了，号码先保留', '视频彩铃暂时不用了', '号码不用了']) {
      expect(nlu.parse(text).keepsNumber, text).toBe(false);
    }
  });

  it('reads a request beside keeping the number (把视频彩铃退了，号码先保留) as the request, not as taken back', () => {
    for (const text of ['把视频彩铃退了，号码先保留', '彩铃退了吧，号码还要用']) {
      expect(nlu.parse(text), text).toMatchObject({ intent: 'unsubscribe', negated: false, target: 'vas', keepsNumber: false });
    }
    for (const text of ['视频彩铃先不退了', '彩铃先留着，不退了']) expect(nlu.parse(text).negated, text).toBe(true);
  });

  it('reads a product named alone (视频彩铃, 那个流量包) as an unsure request, so that the bot asks, but not an order or a question about it', () => {
    for (const text of ['视频彩铃', '那个流量包', '手机报呢', '音乐会员']) {
      const r = nlu.parse(text);
      expect(r.intent, text).toBe('unsubscribe');
      expect(r.confidence, text).toBeLessThan(0.6);
    }
    for (const text of ['开通流量包', '流量包多少钱']) expect(nlu.parse(text).intent, text).not.toBe('unsubscribe');
  });

  it('marks a service said outright never to have been ordered, but not a bare 我不知道', () => {
    for (const text of ['没订过', '我没开过这个', '不是我开的', 'I never ordered it']) expect(nlu.parse(text).claimsNeverOrdered, text).toBe(true);
    for (const text of ['我不知道', '退订视频彩铃', '这是什么费用']) expect(nlu.parse(text).claimsNeverOrdered, text).toBe(false);
  });

  it('never reads a yes put as a question, or a yes refused, as a yes (a yes files the request)', () => {
    for (const text of ['确定吗', '确认？', '确认吗', '好不好', '可以不']) expect(nlu.parse(text).intent, text).not.toBe('confirm');
    for (const text of ['确认不了', '确认个屁', '没法确认']) expect(nlu.parse(text).intent, text).toBe('deny');
    for (const text of ['确认', '好的', '是的', '确认退订', '可以的', '提交', '帮我提交吧']) expect(nlu.parse(text).intent, text).toBe('confirm');
    expect(nlu.parse('提交了吗').intent).toBe('query_status');
    // A plain no, said alone (不了 read as a request, so 您是要退订业务吗 → 不了 went ahead).
    for (const text of ['不了', '不了不了', '不需要了', '不用了谢谢']) expect(nlu.parse(text).intent, text).toBe('deny');
  });

  it('reads 不要退了 and the like as stopping, not as undoing a filed request', () => {
    for (const text of ['不要退了', '不要退', '别退了', '先不退了', '算了不办了']) expect(nlu.parse(text).intent, text).toBe('cancel');
    expect(nlu.parse('我要撤销刚才的退订').intent).toBe('undo');
  });

  it('reads a bare 退 or 退掉 as a request to cancel', () => {
    for (const text of ['退', '退掉', '退吧', '帮我退掉']) expect(nlu.parse(text).intent, text).toBe('unsubscribe');
  });

  it('reads a service described instead of named (退订那个每天发天气预报的) as a request, also inside an unsure longer message', () => {
    for (const text of ['我要退订那个每天发天气预报的', '帮我退掉那个每月扣10块的', '喂喂 客服 我要退订那个每天发天气预报的']) {
      expect(nlu.parse(text).intent, text).toBe('unsubscribe');
    }
    // A question about it is not a request by this rule.
    expect(nlu.parse('退订那个是什么的').intent).not.toBe('unsubscribe');
    expect(nlu.parse('我要退订的那个办好了吗').intent).toBe('query_status');
  });

  it('reads a bare request with the number given beside it as a request (退订宽带，我的号码是…)', () => {
    for (const text of ['退订宽带，我的号码是13800138000', '退订视频彩铃，号码13800138000', '退订宽带 号码是13800138000', '手机号13800138000 退流量包']) {
      expect(nlu.parse(text), text).toMatchObject({ intent: 'unsubscribe', msisdn: '13800138000' });
    }
    expect(nlu.parse('我的号码是13800138000').intent).not.toBe('unsubscribe');
  });

  it('notes a clause of its own that closes the number beside another request, but not a number given or kept', () => {
    for (const text of ['我要退宽带，顺便把号也销了', '视频彩铃退了，号码也注销', '宽带退了，手机号也不要了']) {
      expect(nlu.parse(text), text).toMatchObject({ intent: 'unsubscribe', alsoClosesNumber: true });
      expect(nlu.parse(text).target, text).not.toBe('number');
    }
    for (const text of ['退订视频彩铃，我的手机号是13800138000', '帮我把号码138 0013 8000上的彩铃退掉', '宽带退了，号码不变', '宽带怎么销户', '我要销号，宽带也退了', '退订宽带']) {
      expect(nlu.parse(text).alsoClosesNumber, text).toBeUndefined();
    }
  });

  it('reads English requests for a ringtone or a data plan', () => {
    expect(nlu.parse('I want to unsubscribe the video ringtone')).toMatchObject({ intent: 'unsubscribe', serviceIds: ['vas-video-ringback'] });
    expect(nlu.parse('cancel my data plan please')).toMatchObject({ intent: 'unsubscribe', target: 'addon' });
  });
});

describe('hard negatives are never unsubscribe requests', () => {
  it.each([
    '我想办理流量包', '开通视频彩铃', '升级5G套餐', '取消订单', '淘宝的订单怎么取消', '退款', '我要退款', '查话费',
    '流量不够用', '换个更大的套餐', '给我开个视频彩铃', '帮我订购一个5G流量包', '我想开通来电提醒', '你吃饭了吗',
    '外卖取消了钱怎么还没退', '宽带坏了上不了网', '携号转网怎么办理',
  ])('"%s" is not unsubscribe', (text) => {
    expect(nlu.parse(text).intent).not.toBe('unsubscribe');
  });
});

describe('the issue 8 intents and unsubscribe keep apart', () => {
  it.each<[string, Intent]>([
    ['我没订过彩铃，怎么扣钱了，赶紧给我退掉', 'unsubscribe'],
    ['我没订过彩铃，怎么扣钱了', 'unwanted_charge'],
    ['查一下我订了哪些业务，没用的全部退掉', 'unsubscribe'],
    ['查一下我订了哪些业务', 'review'],
    ['怎么退订流量包', 'unsubscribe'],
    ['退订流量包要不要钱', 'fee_question'],
    ['我的退订办好了吗', 'query_status'],
    ['退订了怎么还在扣钱', 'still_charged'],
    ['不退了', 'cancel'],
    ['刚才提交的退订撤回', 'undo'],
    ['号码不用了，帮我销户', 'unsubscribe'],
    ['手机丢了，帮我停机', 'lost_phone'],
    ['查一下TD20261124000123的进度', 'query_status'],
    ['TD20261124000123的回执再发我一次', 'receipt'],
  ])('reads "%s" as %s', (text, intent) => {
    expect(nlu.parse(text).intent).toBe(intent);
  });

  it('lets a pasted operator SMS with a complaint around it be the complaint', () => {
    expect(nlu.parse('【中国移动】您已成功订购视频彩铃，资费10元/月，回复TD退订。').intent).toBe('unsubscribe');
    expect(nlu.parse('【中国移动】您已成功订购视频彩铃，资费10元/月，回复TD退订。我根本没订过，这是啥').intent).toBe('unwanted_charge');
  });
});

describe('asking the bot to wait', () => {
  // Said while looking for the SMS: the dialog must not end (it used to read as cancel).
  it.each(['等一下', '稍等', '稍等片刻，我找下短信', '你等我一下'])('does not read "%s" as cancelling', (text) => {
    expect(nlu.parse(text).intent).not.toBe('cancel');
  });

  it.each(['等等，我再考虑考虑', '等一下先不退了'])('still reads "%s" as cancelling', (text) => {
    expect(nlu.parse(text).intent).toBe('cancel');
  });
});

describe('latin typing', () => {
  it.each(['彩铃td', '流量包qx一下', '宽带tuiding', 'cancel掉那个会员'])('reads "%s" as unsubscribe', (text) => {
    expect(nlu.parse(text).intent).toBe('unsubscribe');
  });

  it('keeps the td of a ticket number', () => {
    const r = nlu.parse('td20261124000123到哪一步了');
    expect(r.ticket).toBe('TD20261124000123');
    expect(r.intent).toBe('query_status');
  });
});

describe('dates, times and numbers that ask for nothing', () => {
  it.each(['2027-03-09', '2025/12/01 08:30', '十月五号', '明天下午4点', '６月１８日', '2026年'])('reads "%s" as other', (text) => {
    expect(nlu.parse(text).intent).toBe('other');
  });

  it('still reads a request that mentions a date', () => {
    expect(nlu.parse('我3月5号开的彩铃，帮我退掉').intent).toBe('unsubscribe');
  });
});

describe('pinyin slips, dialect and the bot itself', () => {
  it.each([['推定流量包', 'addon'], ['去消彩铃', 'vas'], ['款带不用了', 'broadband'], ['quxiaocailing', 'vas']])('reads "%s" as unsubscribe (%s)', (text, target) => {
    const r = nlu.parse(text);
    expect(r.intent).toBe('unsubscribe');
    expect(r.target).toBe(target);
  });

  it('reads regional and colloquial wordings as plain Mandarin (莫得用 = 没用, 要得 = 好的)', () => {
    expect(nlu.parse('俺的宽带莫得用了 退了').intent).toBe('unsubscribe');
    expect(nlu.parse('这个套餐没有用 给退了吧').intent).toBe('unsubscribe');
    expect(nlu.parse('要得').intent).toBe('confirm');
    // 要得 inside a longer word stays what it was.
    expect(nlu.parse('需要得到什么').intent).not.toBe('confirm');
    expect(nlu.parse('我要得到验证码才行').intent).not.toBe('confirm');
  });

  it('reads 销户 said of broadband as closing the broadband', () => {
    expect(nlu.parse('宽带怎么销户').target).toBe('broadband');
  });

  it('reads a question whether the bot is a machine as no request for a person', () => {
    expect(nlu.parse('你是不是机器人啊').intent).toBe('other');
    expect(nlu.parse('你是机器人吧，给我接真人').intent).toBe('human_agent');
    for (const text of ['你是不是机器人啊', '你们是机器人吗', '是真人吗？', '是机器人在回复吗']) {
      expect(nlu.parse(text), text).toMatchObject({ aboutBot: true });
      expect(nlu.parse(text).intent, text).not.toBe('human_agent');
    }
    for (const text of ['我要真人', '你是机器人吧，给我接真人', '机器人太笨了']) expect(nlu.parse(text).aboutBot, text).toBe(false);
  });

  it('reads a pasted operator SMS alone as the request to cancel it', () => {
    expect(nlu.parse('【中国移动】尊敬的客户，您已订购音乐会员，6元/月，退订请回复TD。').intent).toBe('unsubscribe');
  });

  it('reads a cancelling verb with only products around it as a confident cancellation, and leaves anything more to the model', () => {
    for (const [text, target] of [
      ['退订宽带', 'broadband'], ['退订月租', 'plan'], ['把套餐退了', 'plan'], ['请把我的5G套餐给我退了', 'plan'],
      ['视频彩铃和来电提醒取消掉', 'vas'], ['帮我关掉夜间流量包', 'addon'], ['宽带退了吧', 'broadband'],
    ] as const) {
      const parsed = nlu.parse(text);
      expect([parsed.intent, parsed.target], text).toEqual(['unsubscribe', target]);
      expect(parsed.confidence, text).toBeGreaterThanOrEqual(0.9);
    }
    // A question, a report of a past cancellation or a taken-back request is not a bare command.
    expect(nlu.parse('退订套餐要钱吗').intent).toBe('fee_question');
    expect(nlu.parse('我已经退订宽带了').intent).not.toBe('unsubscribe');
    expect(nlu.parse('不要退订宽带').intent).not.toBe('unsubscribe');
  });

  it('reads a shop return as out of scope', () => {
    expect(nlu.parse('退货').intent).toBe('other');
  });
});

describe('negation', () => {
  it.each(['我不想退订了', '先别取消', '不退了', '暂时不退了', '彩铃先不退了', '我不是要退订', '取消退订', '别给我退宽带'])(
    'marks "%s" as negated and not an unsubscribe request',
    (text) => {
      const r = nlu.parse(text);
      expect(r.negated).toBe(true);
      expect(r.intent).not.toBe('unsubscribe');
    },
  );

  it.each(['彩铃不要了', '我不想要这个会员了，帮我退掉', '为什么取消不了', '退订不了怎么办', '号码不用了'])(
    'does not mistake "%s" for a taken-back request',
    (text) => {
      expect(nlu.parse(text).negated).toBe(false);
    },
  );
});

describe('confidence', () => {
  it('is a probability', () => {
    for (const text of ['我想退订视频彩铃', '嗯', '啊啊啊', '1', '']) {
      const { confidence } = nlu.parse(text);
      expect(confidence).toBeGreaterThanOrEqual(0);
      expect(confidence).toBeLessThanOrEqual(1);
    }
  });

  it('is high for a plain request and lower for gibberish', () => {
    expect(nlu.parse('我想退订视频彩铃').confidence).toBeGreaterThan(0.9);
    expect(nlu.parse('阿巴阿巴').confidence).toBeLessThan(0.9);
  });

  it('is high for rule decisions', () => {
    expect(nlu.parse('转人工').confidence).toBeGreaterThanOrEqual(0.95);
    expect(nlu.parse('TD').confidence).toBeGreaterThanOrEqual(0.95);
  });
});

describe('robustness', () => {
  it('never throws and always returns a known intent', () => {
    for (const s of ['', '   ', '😀', '\u0000\u0001', 'a'.repeat(5000), '退'.repeat(2000), '<script>', '\uD800']) {
      const r = nlu.parse(s);
      expect(typeof r.intent).toBe('string');
      expect(r.text).toBe(s);
    }
  });
});
