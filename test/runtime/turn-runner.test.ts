import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../src/app.js';
import { lastCode, tempDataDir, testApp } from '../support/app.js';

let data: ReturnType<typeof tempDataDir>;
const apps: App[] = [];

beforeEach(() => { data = tempDataDir(); });
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  data.cleanup();
});

async function open(env: Record<string, string> = {}, now?: () => number): Promise<App> {
  const app = await testApp(data.dir, env, now ? { now } : {});
  apps.push(app);
  return app;
}

const say = (app: App, text: string, conversationId = 'conv-1') =>
  app.runner.handleMessage({ conversationId, text, locale: 'zh-CN', reference: { conversation: { id: conversationId } } });

/** Sends `request`, then the number, then the code sent to it; resolves with the reply to the code. */
async function verifiedTurn(app: App, request: string, conversationId = 'conv-1', msisdn = '13800138000') {
  await say(app, request, conversationId);
  await say(app, msisdn, conversationId);
  return say(app, await lastCode(app, msisdn), conversationId);
}

describe('turn runner', () => {
  it('resumes mid-dialog after a restart', async () => {
    const first = await open();
    await say(first, '退订音乐会员');
    await say(first, '13800138000');
    const code = await lastCode(first, '13800138000');
    await first.stop();
    apps.length = 0;

    const second = await open();
    const out = await say(second, code);
    expect(out.state).toBe('session.awaitingConfirmation');
    expect(out.replies.map((r) => r.text).join('\n')).toContain('音乐会员');
  });

  it('resets a snapshot the machine cannot restore, with an apology, keeping the store usable', async () => {
    const app = await open();
    await say(app, '退订音乐会员');
    const record = (await app.store.getConversation('conv-1'))!;
    await app.store.putConversation({ ...record, snapshot: { value: { session: 'noSuchState' }, context: {} } });
    const out = await say(app, '你好');
    expect(out.replies[0]!.text).toBe(app.i18n.t('dialog.restoreFailed'));
    expect(out.state).toBe('idle');
  });

  it('ends an abandoned dialog after the inactivity timeout and says so', async () => {
    let clock = Date.parse('2026-11-24T10:00:00Z');
    const app = await open({ DIALOG_TIMEOUT_MINUTES: '30' }, () => clock);
    await say(app, '退订音乐会员');
    clock += 31 * 60_000;
    const out = await say(app, '你好');
    expect(out.replies[0]!.text).toBe(app.i18n.t('dialog.expired'));
    expect(out.state).toBe('idle');
  });

  it('processes the turns of one conversation one at a time', async () => {
    const app = await open();
    const outs = await Promise.all([say(app, '退订音乐会员'), say(app, '13800138000')]);
    expect(outs[0]!.state).toBe('session.askingNumber');
    expect(outs[1]!.state).toBe('session.awaitingCode');
  });
});

describe('reply language', () => {
  it('follows the activity locale, mapping zh-HK to Traditional and en-GB to English', async () => {
    const app = await open();
    const hk = await app.runner.handleMessage({ conversationId: 'hk', text: '你好', locale: 'zh-HK', reference: {} });
    expect(hk.locale).toBe('zh-TW');
    expect(hk.replies[0]!.text).toBe(app.i18n.t('greeting.text', {}, 'zh-TW'));
    const gb = await app.runner.handleMessage({ conversationId: 'gb', text: '你好', locale: 'en-GB', reference: {} });
    expect(gb.replies[0]!.text).toBe(app.i18n.t('greeting.text', {}, 'en-US'));
  });

  it('switches when the user asks and keeps the choice for later turns, whatever the activity says', async () => {
    const app = await open();
    const switched = await say(app, 'English please');
    expect(switched.replies.map((r) => r.text)).toEqual([app.i18n.t('locale.switched', {}, 'en-US')]);
    const next = await say(app, '退订视频彩铃');
    expect(next.locale).toBe('en-US');
    expect(next.replies[0]!.text).toBe(app.i18n.t('identity.number.prompt', {}, 'en-US'));
    const back = await say(app, '請用繁體');
    expect(back.locale).toBe('zh-TW');
    // Switching language does not disturb the dialog.
    expect(back.state).toBe('session.askingNumber');
  });
});

describe('retried activities', () => {
  it('answers a retried activity id from the record without a second turn', async () => {
    const app = await open();
    const first = await app.runner.handleMessage({ conversationId: 'c', activityId: 'a1', text: '退订音乐会员', locale: 'zh-CN', reference: {} });
    const sms = await app.runner.handleMessage({ conversationId: 'c', activityId: 'a2', text: '13800138000', locale: 'zh-CN', reference: {} });
    const code = await lastCode(app, '13800138000');
    await app.runner.handleMessage({ conversationId: 'c', activityId: 'a3', text: code, locale: 'zh-CN', reference: {} });
    const receipt = await app.runner.handleMessage({ conversationId: 'c', activityId: 'a4', text: '确认', locale: 'zh-CN', reference: {} });
    // The channel did not get the answer and sends 确认 again with the same id: same receipt, one filing.
    const retried = await app.runner.handleMessage({ conversationId: 'c', activityId: 'a4', text: '确认', locale: 'zh-CN', reference: {} });
    expect(retried).toEqual({ ...receipt, retried: true });
    expect(await app.backend.listRequests({ msisdn: '13800138000' })).toHaveLength(1);
    expect(first.state).toBe('session.askingNumber');
    expect(sms.state).toBe('session.awaitingCode');
  });
});

describe('stopping a dialog', () => {
  it('reads a bare 取消 as stopping the dialog while a question is open, and as a request when nothing is', async () => {
    const app = await open();
    for (const [setup, stop] of [[['退订音乐会员', '13800138000'], '取消'], [['退订视频彩铃'], '取消吧。'], [['退订音乐会员', '13800138000', 'code'], '不办了']] as const) {
      for (const step of setup) await say(app, step === 'code' ? await lastCode(app, '13800138000') : step);
      const out = await say(app, stop);
      expect(out.state).toBe('idle');
      // Stopped at a confirmation it is a decline; anywhere else a cancelled dialog.
      expect([[app.i18n.t('dialog.cancelled')], [app.i18n.t('confirm.declined')]]).toContainEqual(out.replies.map((r) => r.text));
    }
    expect(await app.backend.listRequests({ msisdn: '13800138000' })).toEqual([]);
    // With no dialog running, 取消 is someone wanting to cancel something: the bot asks what.
    const fresh = await say(app, '取消', 'conv-2');
    expect(fresh.state).not.toBe('idle');
  });
});

describe('buttons typed out', () => {
  /** A lost phone reported and the service password given (the phone is not at hand for a code): the suspension is asked. */
  async function atSuspension(app: App, conversationId: string) {
    for (const text of ['手机丢了', '13800138000']) await say(app, text, conversationId);
    return say(app, '246810', conversationId);
  }

  it('reads a button\'s title typed as text as what the button sends: 立即停机 suspends, 暂不停机 does not', async () => {
    const app = await open();
    const asked = await atSuspension(app, 'conv-1');
    expect(asked.state).toBe('session.awaitingSuspension');
    expect(asked.replies.at(-1)!.choices.map((c) => c.title)).toEqual(['立即停机', '暂不停机']);
    expect((await say(app, ' 立即停机！')).state).toBe('session.offeringPasswordChange');
    await atSuspension(app, 'conv-2');
    expect((await say(app, '暂不停机', 'conv-2')).state).toBe('idle');
  });
});

describe('the confirmation', () => {
  it('files nothing on a yes put as a question or refused: 确定吗 asks again, 确认不了 drops the request', async () => {
    const app = await open();
    expect((await verifiedTurn(app, '退订视频彩铃')).state).toBe('session.awaitingConfirmation');
    for (const text of ['确定吗', '确认？']) expect((await say(app, text)).state, text).toBe('session.awaitingConfirmation');
    expect((await say(app, '确认不了')).state).toBe('idle');
    expect(await app.backend.listRequests({ msisdn: '13800138000' })).toEqual([]);
  });

  it('closes no number on the closure phrase put as a question or refused', async () => {
    const app = await open();
    await verifiedTurn(app, '我要销号');
    expect((await say(app, '246810')).state).toBe('session.awaitingConfirmation');
    for (const text of ['确认销号吗', '确认销号？']) expect((await say(app, text)).state, text).toBe('session.awaitingConfirmation');
    expect((await say(app, '确认销号不了')).state).toBe('idle');
    expect(await app.backend.listRequests({ msisdn: '13800138000' })).toEqual([]);
  });
});

describe('courtesies mid-dialog', () => {
  it('keeps the dialog open for 我再想想 / 我问问家里人, asking the pending question again, where it used to drop it', async () => {
    const app = await open();
    await say(app, '退订音乐会员');
    const asked = await say(app, '13800138000');
    const prompt = asked.replies.at(-1)!.text;
    for (const text of ['我再想想', '我问问家里人', '考虑一下']) {
      const out = await say(app, text);
      expect(out.state, text).toBe('session.awaitingCode');
      expect(out.replies.map((r) => r.text).join('\n')).toBe(`${app.i18n.t('wait.resume')}\n${prompt}`);
    }
    // Said together with a no, it is a no.
    expect((await say(app, '我再想想，先不办了')).state).toBe('idle');
  });

  it('answers thanks and 稍等 with the pending question, however often, without counting them as misses', async () => {
    const app = await open();
    await say(app, '退订音乐会员');
    const asked = await say(app, '13800138000');
    const prompt = asked.replies.at(-1)!.text;
    for (const [text, key] of [['谢谢', 'thanks.resume'], ['等一下', 'wait.resume'], ['稍等！', 'wait.resume'], ['多谢', 'thanks.resume']] as const) {
      const out = await say(app, text);
      expect(out.state).toBe('session.awaitingCode');
      expect(out.replies.map((r) => r.text).join('\n')).toBe(`${app.i18n.t(key)}\n${prompt}`);
    }
    expect(await app.handoffStore.listOpen()).toEqual([]);
    expect((await say(app, await lastCode(app, '13800138000'))).state).toBe('session.awaitingConfirmation');
    // Thanks with nothing going on is thanks, never a new request (多谢 alone reads as one to the classifier).
    const idle = await say(app, '多谢', 'conv-2');
    expect([idle.state, idle.replies.map((r) => r.text)]).toEqual(['idle', [app.i18n.t('idle.thanks')]]);
  });
});

describe('waiting for an agent', () => {
  it('answers 还要等多久 / 怎么还没人 with the place in the queue while queued, and reads it as a status question otherwise', async () => {
    const app = await open();
    await say(app, '转人工', 'conv-q');
    const ticket = await app.handoff.openTicketFor('conv-q');
    expect(ticket).toBeDefined();
    for (const text of ['还要等多久', '怎么还没人啊']) {
      const out = await say(app, text, 'conv-q');
      expect(out.replies.map((r) => r.text)[0], text).toBe(app.i18n.t('handoff.alreadyQueued', { position: 1, minutes: 3 }));
    }
    expect((await app.handoffStore.listOpen()).length).toBe(1);
    // Urging with a request in it is still the request, which the bot handles meanwhile.
    expect((await say(app, '快点帮我退订音乐会员', 'conv-q')).state).toBe('session.askingNumber');
    const alone = await say(app, '还要等多久', 'conv-alone');
    expect(alone.replies.map((r) => r.text).join('\n')).not.toContain(app.i18n.t('handoff.alreadyQueued', { position: 1, minutes: 3 }));
  });
});

describe('goodbyes', () => {
  it('says goodbye (and that results will come here once something was filed), and keeps a dialog in progress for the user\'s return', async () => {
    const app = await open();
    const idle = await say(app, '拜拜', 'conv-bye');
    expect([idle.state, idle.replies.map((r) => r.text)]).toEqual(['idle', [app.i18n.t('idle.bye')]]);
    await say(app, '退订音乐会员');
    await say(app, '13800138000');
    const left = await say(app, '好的再见');
    expect([left.state, left.replies.map((r) => r.text)]).toEqual(['session.awaitingCode', [app.i18n.t('bye.pending')]]);
    expect(await app.handoffStore.listOpen()).toEqual([]);
    expect((await say(app, await lastCode(app, '13800138000'))).state).toBe('session.awaitingConfirmation');
    expect((await say(app, '确认')).state).toBe('idle');
    const after = await say(app, '再见！');
    expect(after.replies.map((r) => r.text)).toEqual([app.i18n.t('idle.byeTracked')]);
  });
});

describe('personal data deletion', () => {
  it('deletes the transcript after SMS verification, keeps filed requests, and says what was kept', async () => {
    const app = await open();
    await say(app, '退订音乐会员');
    await say(app, '13800138000');
    await say(app, await lastCode(app, '13800138000'));
    await say(app, '确认');
    expect((await app.transcripts.read('conv-1')).length).toBeGreaterThan(0);

    const asked = await say(app, '请删除我的个人信息');
    // Verified earlier in this conversation: straight to what goes and what stays.
    expect(asked.replies.map((r) => r.text)).toEqual([app.i18n.t('privacy.confirm')]);
    const done = await say(app, '确认');
    expect(done.replies.map((r) => r.text)).toEqual([app.i18n.t('privacy.done')]);
    expect(await app.transcripts.read('conv-1')).toEqual([]);
    expect(await app.backend.listRequests({ msisdn: '13800138000' })).toHaveLength(1);
    // Verification is gone too: the next request starts from the number again.
    const next = await say(app, '退订视频彩铃');
    expect(next.state).toBe('session.askingNumber');
  });
});

describe('SMS flooding', () => {
  it('limits the codes one conversation can have sent, whatever numbers it types', async () => {
    const app = await open({ CODE_MAX_PER_CONVERSATION_HOUR: '2' });
    await say(app, '退订彩铃');
    expect((await say(app, '13800138000')).state).toBe('session.awaitingCode');
    expect((await say(app, '13900139000')).state).toBe('session.awaitingCode');
    const third = await say(app, '13700137000');
    expect(third.replies[0]!.text).toBe(app.i18n.t('identity.code.rateLimited'));
    const outbox = app.sms as unknown as { list(m: string): Promise<unknown[]> };
    expect(await outbox.list('13700137000')).toEqual([]);
  });
});

describe('messages that interrupt a dialog', () => {
  const texts = (out: { replies: { text: string }[] }) => out.replies.map((r) => r.text);

  it('starts the data deletion when asked while choosing what to cancel, saying nothing was filed', async () => {
    const app = await open();
    const list = await verifiedTurn(app, '流量包和语音包怎么取消');
    expect(list.state).toBe('session.awaitingChoice');
    const out = await say(app, '删除我的个人信息');
    expect(out.state).toBe('session.awaitingDeletion');
    expect(texts(out)).toEqual([app.i18n.t('switch.from.unsubscribe'), app.i18n.t('privacy.confirm')]);
    expect(await app.handoff.openTicketFor('conv-1')).toBeFalsy();
  });

  it('reads 我的手机丢了 at the list as a lost phone, never as picking 手机报', async () => {
    const app = await open();
    await say(app, '退订');
    await say(app, '13900139000');
    await say(app, await lastCode(app, '13900139000'));
    const out = await say(app, '我的手机丢了');
    expect(out.state).toBe('session.awaitingSecret');
    expect(texts(out)[0]).toBe(app.i18n.t('switch.from.unsubscribe'));
    expect(texts(out).join('\n')).not.toContain('手机报');
  });

  it('answers 办好了吗 at the confirmation and asks for the confirmation again', async () => {
    const app = await open();
    await say(app, '退订视频彩铃');
    await say(app, '13800138000');
    const warned = await say(app, await lastCode(app, '13800138000'));
    const out = await say(app, '办好了吗');
    expect(out.state).toBe('session.awaitingConfirmation');
    expect(texts(out).at(-1)).toBe(`${app.i18n.t('dialog.resume')}\n${texts(warned).at(-1)}`);
  });

  it('sends another code when it did not arrive, and takes it typed in groups', async () => {
    const app = await open();
    await say(app, '退订视频彩铃');
    await say(app, '13800138000');
    const first = await lastCode(app, '13800138000');
    const again = await say(app, '验证码没收到');
    expect(again.state).toBe('session.awaitingCode');
    expect(texts(again)).toEqual([app.i18n.t('identity.code.resent', { msisdn: '13800138000' })]);
    const code = await lastCode(app, '13800138000');
    expect(code).not.toBe(first);
    const out = await say(app, `验证码是 ${code.slice(0, 3)} ${code.slice(3)}`);
    expect(out.state).toBe('session.awaitingConfirmation');
  });

  it('asks the pending question again in the language the user switches to', async () => {
    const app = await open();
    await say(app, '退订视频彩铃');
    const out = await say(app, '请用繁体');
    expect(out.state).toBe('session.askingNumber');
    expect(texts(out)).toEqual([`${app.i18n.t('locale.switched', {}, 'zh-TW')}\n${app.i18n.t('identity.number.prompt', {}, 'zh-TW')}`]);
  });

  it('asked again in another conversation, a cancellation under way is said to be so, with its ticket', async () => {
    const app = await open();
    expect((await verifiedTurn(app, '退订视频彩铃', 'conv-first')).state).toBe('session.awaitingConfirmation');
    const filed = await say(app, '确认', 'conv-first');
    const ticket = /TD\d{14}/.exec(texts(filed).join('\n'))![0];
    const again = await verifiedTurn(app, '帮我把视频彩铃退了', 'conv-again');
    expect(again.state).toBe('idle');
    expect(texts(again).join('\n')).toContain(ticket);
    expect(texts(again)[0]).toContain(app.i18n.t('choose.alreadyPending'));
    expect((await app.backend.listRequests({ msisdn: '13800138000' })).filter((r) => r.serviceName === '视频彩铃')).toHaveLength(1);
  });

  it('serves a user who writes English through to the receipt and the progress answer', async () => {
    const app = await open();
    const en = (text: string) => app.runner.handleMessage({ conversationId: 'conv-en', text, locale: 'en-US', reference: { conversation: { id: 'conv-en' } } });
    expect((await en('I want to cancel my video ringback')).state).toBe('session.askingNumber');
    await en('13800138000');
    const warned = await en(await lastCode(app, '13800138000'));
    expect(warned.state).toBe('session.awaitingConfirmation');
    // The reply asks for an English word, and that word works.
    expect(texts(warned).join('\n')).toContain('"confirm"');
    const filed = await en('confirm');
    expect(filed.state).toBe('idle');
    const ticket = /TD\d{14}/.exec(texts(filed).join('\n'))![0];
    expect(texts(await en('is it done?')).join('\n')).toContain(ticket);
  });

  it('picks from the list by run and by exception, as people say it', async () => {
    const app = await open();
    const listFor = async (conversationId: string) => {
      const listed = await verifiedTurn(app, '我要退业务', conversationId);
      expect(listed.state).toBe('session.awaitingChoice');
      return texts(listed).join('\n');
    };
    const list = await listFor('conv-run');
    const second = /^2\. (.+?)（/m.exec(list)![1]!;
    // 前两个 used to read as 不要 and ended the dialog.
    const run = await say(app, '前两个', 'conv-run');
    expect(run.state).toBe('session.awaitingConfirmation');
    expect(texts(run).join('\n')).toContain(second);

    await listFor('conv-except');
    const except = await say(app, '除了视频彩铃都退了', 'conv-except');
    expect(except.state).not.toBe('session.awaitingChoice');
    expect(except.state).not.toBe('idle');
    const record = await app.store.getConversation('conv-except');
    const selected = (record!.snapshot as { context: { selected: { name: string }[] } }).context.selected.map((s) => s.name);
    expect(selected.length).toBeGreaterThan(1);
    expect(selected).not.toContain('视频彩铃');
  });

  it('asks for a pick again with the list, in the language the user switches to', async () => {
    const app = await open();
    const listed = await verifiedTurn(app, '流量包和语音包怎么取消');
    expect(listed.state).toBe('session.awaitingChoice');
    const out = await say(app, '请用繁体');
    expect(out.state).toBe('session.awaitingChoice');
    const [text] = texts(out);
    // Each listed item comes again with its number (a channel without buttons shows only the text).
    expect(text).toContain(app.i18n.t('choose.prompt', {}, 'zh-TW'));
    expect(text).toMatch(/^1\. .*10GB/m);
    expect(text).toMatch(/^2\. /m);
  });

  it('leaves an order the turn is filing to the turn: the outbox worker does not file it again', async () => {
    let clock = Date.parse('2026-11-24T10:00:00Z');
    const app = await open({}, () => clock);
    await say(app, '退订音乐会员');
    await say(app, '13800138000');
    await say(app, await lastCode(app, '13800138000'));
    const backend = app.backend;
    const real = backend.fileUnsubscription.bind(backend);
    let calls = 0;
    let reached!: () => void;
    const atBackend = new Promise<void>((r) => { reached = r; });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    backend.fileUnsubscription = async (input) => {
      calls++;
      reached();
      await gate;
      return real(input);
    };
    const confirming = say(app, '确认');
    await atBackend;
    // The worker wakes while the back end still has the order, long after it was confirmed.
    clock += 10 * 60_000;
    const retrying = app.runner.retryPendingFilings();
    await new Promise((r) => setTimeout(r, 20));
    release();
    const out = await confirming;
    await retrying;
    expect(calls).toBe(1);
    const requests = await backend.listRequests({ msisdn: '13800138000' });
    expect(requests).toHaveLength(1);
    expect(out.replies.map((r) => r.text).join('\n')).toContain(requests[0]!.ticket);
  });
});

describe('retention', () => {
  it('deletes what was said in conversations silent past RETENTION_DAYS, keeping recent ones and open chats with agents', async () => {
    let clock = Date.parse('2026-01-10T10:00:00Z');
    const app = await open({ RETENTION_DAYS: '30' }, () => clock);
    await say(app, '退订音乐会员', 'old');
    await say(app, '13800138000', 'old');
    await say(app, '转人工', 'old-with-agent');
    expect((await app.transcripts.read('old')).length).toBeGreaterThan(0);
    clock += 31 * 86_400_000;
    await say(app, '你好', 'recent');

    expect(await app.runner.expireConversations(30)).toBe(1);
    expect(await app.store.getConversation('old')).toBeUndefined();
    expect(await app.transcripts.read('old')).toEqual([]);
    // An open chat with the agents is kept until it is over; a recent conversation is kept.
    expect(await app.store.getConversation('old-with-agent')).toBeDefined();
    expect(await app.store.getConversation('recent')).toBeDefined();
    expect((await app.transcripts.read('recent')).length).toBeGreaterThan(0);
    // The deletion is on the audit log, without the number.
    const audit = readFileSync(join(data.dir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('"type":"data.expired","conversationId":"old"');
    expect(audit).not.toContain('13800138000');
    // The user who comes back starts afresh.
    expect((await say(app, '你好', 'old')).state).toBe('idle');
    expect(await app.runner.expireConversations(0)).toBe(0);
  });

  it('keeps a conversation that has not been told the outcome of its request', async () => {
    let clock = Date.parse('2026-01-10T10:00:00Z');
    const app = await open({ RETENTION_DAYS: '30', EMBEDDED_STATUS_DELAY_MS: '3600000000' }, () => clock);
    await say(app, '退订音乐会员', 'filed');
    await say(app, '13800138000', 'filed');
    await say(app, await lastCode(app, '13800138000'), 'filed');
    expect((await say(app, '确认', 'filed')).state).toBe('idle');
    clock += 31 * 86_400_000;
    expect(await app.runner.expireConversations(30)).toBe(0);
    expect(await app.store.getConversation('filed')).toBeDefined();
  });

  it('does not let conversations it must keep use up a sweep: the limit counts deletions only', async () => {
    let clock = Date.parse('2026-01-10T10:00:00Z');
    const app = await open({ RETENTION_DAYS: '30' }, () => clock);
    for (const id of ['kept-1', 'kept-2']) await say(app, '转人工', id);
    await say(app, '你好', 'silent');
    clock += 31 * 86_400_000;
    expect(await app.runner.expireConversations(30, 1)).toBe(1);
    expect(await app.store.getConversation('silent')).toBeUndefined();
    expect(await app.store.getConversation('kept-1')).toBeDefined();
  });
});
