import { describe, it, expect } from 'vitest';
import type { TargetType } from '../../src/domain/types.js';
import { productionNlu } from './nlu-fixture.js';

const nlu = productionNlu();

describe('target type', () => {
  it.each<[string, TargetType | null]>([
    ['我想退订视频彩铃', 'vas'],
    ['来电提醒不要了', 'vas'],
    ['VIP会员怎么取消', 'vas'],
    ['退订SP业务', 'vas'],
    ['手机报退订', 'vas'],
    ['把流量包取消', 'addon'],
    ['加油包退了', 'addon'],
    ['语音包不要了', 'addon'],
    ['短信包退订', 'addon'],
    ['我要退套餐', 'plan'],
    ['合约到期了想退', 'plan'],
    ['融合套餐怎么退', 'plan'],
    ['宽带怎么退', 'broadband'],
    ['我要拆机', 'broadband'],
    ['退宽带光猫要还吗', 'broadband'],
    ['我要销号', 'number'],
    ['我想销户', 'number'],
    ['注销手机号', 'number'],
    ['号码不用了', 'number'],
    ['我要停机', 'number'],
    ['宽带账号不用了，上门拆机吧', 'broadband'],
    ['那个30块10个G的包我不要了', 'addon'],
    ['我要退订', null],
  ])('finds the target of "%s": %s', (text, target) => {
    expect(nlu.parse(text).target).toBe(target);
  });
});

describe('catalogue services', () => {
  it.each([
    ['我想退订视频彩铃', 'vas-video-ringback'],
    ['彩铃退订', 'vas-ringback'],
    ['退订视屏彩铃', 'vas-video-ringback'],
    ['取消视频采铃', 'vas-video-ringback'],
    ['来电题醒不要了', 'vas-caller-reminder'],
    ['流量加油包退了', 'addon-data-booster'],
    ['加油包退了', 'addon-data-booster'],
    ['5G包不要了', 'addon-5g-boost'],
    ['129套餐退订', 'plan-5g-129'],
    ['千兆宽带拆机', 'broadband-1000m'],
    ['我要销号', 'number-line'],
    ['退訂音樂會員', 'vas-music-member'],
  ])('matches "%s" to %s', (text, id) => {
    expect(nlu.parse(text).serviceIds[0]).toBe(id);
  });

  it('prefers the longer name when one contains another', () => {
    expect(nlu.parse('退订视频彩铃').serviceIds).toEqual(['vas-video-ringback']);
  });

  it('lists several services in the order they were named', () => {
    expect(nlu.parse('把手机报和加油包都退了').serviceIds).toEqual(['vas-mobile-news', 'addon-data-booster']);
  });

  it('does not name a broadband product for the generic word 宽带', () => {
    expect(nlu.parse('宽带怎么退').serviceIds).toEqual([]);
  });

  it('resolves a short name through the subscriber\'s own services', () => {
    const context = { subscriptions: [{ serviceId: 'vas-music-member', name: '音乐会员' }, { serviceId: 'addon-data-10g', name: '10GB流量包' }] };
    expect(nlu.parse('会员不要了', context).serviceIds[0]).toBe('vas-music-member');
    expect(nlu.parse('流量包退了', context).serviceIds[0]).toBe('addon-data-10g');
  });

  it('maps 彩铃 to the video ringback tone the subscriber actually has', () => {
    const context = { subscriptions: [{ serviceId: 'vas-video-ringback', name: '视频彩铃' }] };
    expect(nlu.parse('彩铃退掉', context).serviceIds[0]).toBe('vas-video-ringback');
  });

  it('resolves 宽带 to the broadband the subscriber has', () => {
    const context = { subscriptions: [{ serviceId: 'broadband-1000m', name: '千兆光纤宽带' }] };
    expect(nlu.parse('宽带怎么退', context).serviceIds).toEqual(['broadband-1000m']);
  });

  it.each([
    ['我想把每个月扣钱的那个音乐的取消掉', 'vas-music-member'],
    ['不要听歌的那个了', 'vas-music-member'],
    ['游戏的那个取消掉', 'vas-game-pack'],
    ['把夜间的关了', 'addon-night-data'],
    ['加速的不要了', 'addon-5g-boost'],
  ])('names one service by the head of its name alone: "%s" → %s', (text, id) => {
    expect(nlu.parse(text).serviceIds).toEqual([id]);
  });

  it.each([
    // 视频 starts both 视频彩铃 and 视频会员; 短信 alone is about marketing messages; 流量 heads several packs.
    '退订视频', '退订短信', '流量的那个退了',
  ])('names no service by a head several services share or that means something else: "%s"', (text) => {
    expect(nlu.parse(text).serviceIds).toEqual([]);
  });

  it('gives the services a generic word can mean when it names none (流量包 → every 流量包), and nothing more when a service is named', () => {
    expect(nlu.parse('退订流量包').family).toEqual(['addon-data-10g', 'addon-5g-boost', 'addon-night-data']);
    expect(nlu.parse('会员不要了').family).toEqual(expect.arrayContaining(['vas-video-member', 'vas-music-member']));
    expect(nlu.parse('退订视频彩铃').family).toBeUndefined();
    expect(nlu.parse('流量不够用').family).toBeUndefined();
  });

  it('keeps the family of a generic word beside a named service of another family, not of one it can mean', () => {
    const both = nlu.parse('视频彩铃和流量包都退了');
    expect(both.serviceIds).toEqual(['vas-video-ringback']);
    expect(both.family).toEqual(['addon-data-10g', 'addon-5g-boost', 'addon-night-data']);
    expect(nlu.parse('视频会员，就是那个会员，退了').family).toBeUndefined();
  });

  it('prefers a whole name to a head (音乐会员 and 游戏包 each named in full)', () => {
    expect(nlu.parse('音乐会员和游戏包都退了').serviceIds).toEqual(['vas-music-member', 'vas-game-pack']);
  });

  it('does not treat "my number is" as closing the number', () => {
    expect(nlu.parse('我的手机号是13812345678').serviceIds).toEqual([]);
  });
});

describe('digits that make no number or code', () => {
  it.each<[string, number | null]>([
    ['1380013800', 10], ['138 0013 800', 10], ['12345', 5], ['1234567', 7], ['我的号码是138001380', 9],
    ['13800138000', null], ['123456', null], ['2', null], ['退订12345', null], ['0', 1], ['99', 2], ['123', 3],
  ])('"%s" has %s stray digits', (text, n) => {
    expect(nlu.parse(text).strayDigits).toBe(n);
  });

  it('marks 都不是 and 没有我要的 as none of the listed, and English the same', () => {
    for (const text of ['都不是', '里面没有我要的', 'none of these']) expect(nlu.parse(text).noneOfThese, text).toBe(true);
    expect(nlu.parse('不是').noneOfThese).toBe(false);
    expect(nlu.parse('not this one').notThisOne).toBe(true);
  });

  it('marks 不是这个 and 选错了 as not what the user meant, and a plain 不对 as not', () => {
    for (const text of ['不是这个', '选错了，不是这个', '不是这个业务']) expect(nlu.parse(text).notThisOne, text).toBe(true);
    expect(nlu.parse('不对').notThisOne).toBe(false);
  });

  it('reads a message of nothing but emoji or punctuation as understood as nothing', () => {
    for (const text of ['😡😡😡', '？？？', '🙂']) expect([text, nlu.parse(text).intent, nlu.parse(text).confidence]).toEqual([text, 'other', 0.5]);
    expect(nlu.parse('👌').intent).toBe('confirm');
  });
});

describe('mobile numbers', () => {
  it.each([
    ['13812345678', '13812345678'],
    ['我的号码是13912345678', '13912345678'],
    ['+86 138 1234 5678', '13812345678'],
    ['+8613812345678', '13812345678'],
    ['138-1234-5678', '13812345678'],
    ['１３８１２３４５６７８', '13812345678'],
    ['手机号 150 0000 1111 谢谢', '15000001111'],
  ])('reads %s as %s', (text, msisdn) => {
    expect(nlu.parse(text).msisdn).toBe(msisdn);
  });

  it.each(['12812345678', '1381234567', '138123456789', '10086'])('rejects %s', (text) => {
    expect(nlu.parse(text).msisdn).toBeNull();
  });

  it('does not read an 11-digit number as a code', () => {
    expect(nlu.parse('13812345678').code).toBeNull();
  });
});

describe('codes and ID tails', () => {
  it.each([
    ['123456', '123456'],
    ['验证码是802114', '802114'],
    ['123 456', '123456'],
    ['一二三四五六', '123456'],
    ['验证码是 123 456', '123456'],
    ['验证码是 4 8 2 9 1 3', '482913'],
    ['12-34-56', '123456'],
    ['１２３４５６', '123456'],
  ])('reads the code in %s', (text, code) => {
    const r = nlu.parse(text);
    expect(r.code).toBe(code);
    expect(r.idTail).toBe(code);
    expect(r.choice).toBeNull();
  });

  it.each([['12345X', '12345X'], ['身份证后六位是12345x', '12345X'], ['后6位 00321X', '00321X']])('reads the ID tail in %s', (text, tail) => {
    const r = nlu.parse(text);
    expect(r.idTail).toBe(tail);
    expect(r.code).toBeNull();
  });

  it.each(['654321', '654 321', '验证码 654 321'])('treats a bare code as an answer, not a request: %s', (text) => {
    expect(nlu.parse(text).intent).toBe('other');
  });
});

describe('tickets', () => {
  it.each([
    ['TD20261124000123', 'TD20261124000123'],
    ['查一下td20261124000123', 'TD20261124000123'],
    ['单号 TD 20261124000123 怎么样了', 'TD20261124000123'],
  ])('reads the ticket in %s', (text, ticket) => {
    const r = nlu.parse(text);
    expect(r.ticket).toBe(ticket);
    expect(r.code).toBeNull();
    expect(r.msisdn).toBeNull();
  });

  it('reads a pasted ticket as a status query', () => {
    expect(nlu.parse('TD20261124000123').intent).toBe('query_status');
  });
});

describe('choices', () => {
  it.each([
    ['1', [1]],
    ['2', [2]],
    ['2和3', [2, 3]],
    ['1、3', [1, 3]],
    ['1,2', [1, 2]],
    ['1 3', [1, 3]],
    ['第二个', [2]],
    ['第一个和第三个', [1, 3]],
    ['选2', [2]],
    ['退第2个', [2]],
    ['把第三个退了', [3]],
    ['二', [2]],
  ])('reads %s as positions %j', (text, indexes) => {
    expect(nlu.parse(text).choice).toEqual({ kind: 'indexes', indexes });
  });

  it.each(['两个都退', '都退', '全部', '全部退订', '都不要了', '三个都取消'])('reads %s as all of them', (text) => {
    expect(nlu.parse(text).choice).toEqual({ kind: 'all' });
  });

  it.each(['10元30G的流量包', '我要退订', '129套餐', '0000', '都不退了'])('finds no choice in %s', (text) => {
    expect(nlu.parse(text).choice).toBeNull();
  });

  it('gives a bare pick no intent of its own', () => {
    expect(nlu.parse('2').intent).toBe('other');
    expect(nlu.parse('第一个和第三个').intent).toBe('other');
  });

  it.each([
    ['前两个', 'first', 2],
    ['头三个吧', 'first', 3],
    ['前面2个都退', 'first', 2],
    ['最后一个', 'last', 1],
    ['最后那个', 'last', 1],
    ['后两个', 'last', 2],
  ])('reads %s as a run from one end (%s %i), with no intent of its own', (text, kind, count) => {
    const r = nlu.parse(text);
    expect(r.choice).toEqual({ kind, count });
    // 前两个 had read as deny and 后两个 as help: the dialog then dropped the list.
    expect(r.intent).toBe('other');
  });

  it.each(['前两个月扣的钱', '以前一个业务也这样', '后三天再说'])('finds no run in the time span of %s', (text) => {
    const choice = nlu.parse(text).choice;
    expect(choice?.kind === 'first' || choice?.kind === 'last').toBe(false);
  });

  it.each([
    ['除了视频彩铃都退了', [], ['vas-video-ringback'], []],
    ['视频彩铃留着，其他都退掉', [], ['vas-video-ringback'], []],
    ['彩铃不退 剩下的都取消', [], ['vas-ringback'], []],
    ['除了第二个其他都退', [2], [], []],
    ['除了2和3都退', [2, 3], [], []],
    ['保留宽带 其余的全部退订', [], [], ['broadband']],
    // The named service is cut out before kinds are read: 彩铃 inside 视频彩铃 keeps no kind.
    ['除了视频彩铃和宽带 其他都退了', [], ['vas-video-ringback'], ['broadband']],
    // Keeping only some says the rest goes, with or without a cancelling word.
    ['只留套餐', [], [], ['plan']],
    ['只保留视频彩铃，别的都退订', [], ['vas-video-ringback'], []],
    ['只留第一个', [1], [], []],
  ])('reads %s as all but some (positions %j, services %j, kinds %j): a cancellation that names what it keeps', (text, indexes, serviceIds, targets) => {
    const r = nlu.parse(text);
    expect(r.choice).toEqual({ kind: 'allExcept', indexes, serviceIds, targets });
    expect(r.intent).toBe('unsubscribe');
    expect(r.negated).toBe(false);
    // What is kept is never among what is asked for.
    expect(r.serviceIds).toEqual([]);
  });

  it('reads the kind named after the exception as what is cancelled', () => {
    const r = nlu.parse('除了视频彩铃，其他增值业务都退');
    expect(r.choice).toMatchObject({ kind: 'allExcept', serviceIds: ['vas-video-ringback'] });
    expect(r.target).toBe('vas');
  });

  it.each(['除了视频彩铃其他都不退', '除了视频彩铃还有什么业务', '除了视频彩铃，音乐会员也退掉', '除了这个都退', '只要视频彩铃', '只留套餐，其他先不动', '只留着吧'])('finds no all-but-some pick in %s', (text) => {
    expect(nlu.parse(text).choice?.kind).not.toBe('allExcept');
    // In particular never "everything": its 都退 is no pick of all.
    expect(nlu.parse(text).choice?.kind).not.toBe('all');
  });
});

describe('asking for another code', () => {
  it.each(['验证码没收到', '没收到验证码', '重新发一个验证码', '短信验证码一直收不到', '驗證碼過期了', '没收到', '还没收到啊', '短信一直没来'])('hears %s as wanting another code', (text) => {
    expect(nlu.parse(text).asksNewCode).toBe(true);
  });

  it.each(['123456', '退订视频彩铃', '手机丢了', '没收到退订成功的短信通知吗', '没收到回执', '宽带师傅还没来'])('does not hear it in %s', (text) => {
    expect(nlu.parse(text).asksNewCode).toBe(false);
  });
});

describe('another number', () => {
  it.each(['用我另一个号码', '换个号码', '换一个手机号', '不是这个号码', '用别的号码'])('hears it in %s', (text) => {
    expect(nlu.parse(text).asksOtherNumber).toBe(true);
  });

  it.each(['携号转网', '号码不用了', '13800138000', '退订视频彩铃'])('does not hear it in %s', (text) => {
    expect(nlu.parse(text).asksOtherNumber).toBe(false);
  });
});

describe('the hotline', () => {
  it.each(['你们客服电话多少', '客服热线是多少', '打什么电话能找到人工'])('hears it asked for in %s', (text) => {
    expect(nlu.parse(text).asksHotline).toBe(true);
  });

  it.each(['能不能给我打电话', '退订视频彩铃', '13800138000'])('does not hear it in %s', (text) => {
    expect(nlu.parse(text).asksHotline).toBe(false);
  });
});

describe('the order record', () => {
  it.each(['这个彩铃是什么时候开通的', '什么时候开的', '从哪开通的', '查一下开通记录'])('hears a question about it in %s', (text) => {
    expect(nlu.parse(text).asksOrderRecord).toBe(true);
  });

  it.each(['是谁给我开的', '我没开通过', '退订视频彩铃', '帮我开通流量包'])('does not hear one in %s', (text) => {
    expect(nlu.parse(text).asksOrderRecord).toBe(false);
  });
});

describe('a secret not at hand', () => {
  it.each(['我忘了服务密码', '服务密码不记得了', '身份证不在身边', '没设置过密码'])('hears it in %s', (text) => {
    expect(nlu.parse(text).forgotSecret).toBe(true);
  });

  it.each(['246810', '我要改服务密码', '忘了退订', '身份证后六位12345X'])('does not hear it in %s', (text) => {
    expect(nlu.parse(text).forgotSecret).toBe(false);
  });
});

describe('monthly fees a service is described by', () => {
  it.each([
    ['帮我退订一下那个每个月扣我10块钱的东西', 1000],
    ['十五块的那个', 1500],
    ['退掉30元的流量包', 3000],
    ['每月5块5的那个不要了', 550],
    ['9.9元的会员', 990],
    ['那个每月30的', 3000],
    ['月租129的', 12900],
  ])('reads %s as %i fen a month', (text, fen) => {
    expect(nlu.parse(text).feeFen).toBe(fen);
  });

  it.each(['129套餐', '退订视频彩铃', '13800138000', '验证码123456', '第10个', '每月30G的流量包', '每月1号扣的那个'])('finds no fee in %s', (text) => {
    expect(nlu.parse(text).feeFen).toBeNull();
  });
});
