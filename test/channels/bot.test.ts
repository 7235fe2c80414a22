import { TestAdapter, type Activity } from 'botbuilder';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { lastCode, tempDataDir, testApp } from '../support/app.js';

// Conversations through botbuilder's TestAdapter, on the object graph createApp builds.
let app: App;
let data: ReturnType<typeof tempDataDir>;

beforeEach(async () => {
  data = tempDataDir();
  app = await testApp(data.dir);
});

afterEach(async () => {
  await app.stop();
  data.cleanup();
});

const t = (key: string, params?: Record<string, string | number>) => app.i18n.t(key, params, 'zh-CN');

function adapter(): TestAdapter {
  const a = new TestAdapter(async (context) => { await app.channel.bot.run(context); });
  a.locale = 'zh-CN';
  return a;
}

describe('conversations in Chinese', () => {
  it('cancels 视频彩铃 with an SMS code and an explicit confirmation', async () => {
    const a = adapter();
    await a.send('帮我把视频彩铃退了').assertReply(t('identity.number.prompt'))
      .send('13800138000').assertReply(t('identity.code.prompt', { msisdn: '13800138000' }));
    const code = await lastCode(app, '13800138000');
    await a.send(code)
      .assertReply((act: Partial<Activity>) => { expect(act.text).toContain('视频彩铃'); expect(act.text).toContain(t('warn.effective.immediate')); })
      .assertReply((act: Partial<Activity>) => {
        expect(act.text).toBe(t('confirm.prompt', { names: '视频彩铃' }));
        expect(act.suggestedActions?.actions.map((x) => x.value)).toEqual([t('choice.confirm'), t('choice.decline')]);
        expect((act.channelData as { tuiding: { state: string } }).tuiding.state).toBe('session.awaitingConfirmation');
      })
      .send('确认')
      .assertReply((act: Partial<Activity>) => expect(act.text).toMatch(/TD\d{14}/));
    const filed = await app.backend.listRequests({ msisdn: '13800138000' });
    expect(filed.map((r) => r.serviceName)).toEqual(['视频彩铃']);
  });

  it('abandons the dialog on 算了 at any step, filing nothing', async () => {
    const a = adapter();
    await a.send('流量包不想要了').assertReply(t('identity.number.prompt'))
      .send('13800138000').assertReply(t('identity.code.prompt', { msisdn: '13800138000' }))
      .send('算了').assertReply(t('dialog.cancelled'));
    expect(await app.backend.listRequests({ msisdn: '13800138000' })).toEqual([]);
  });

  it('locks verification after three wrong codes and queues the chat for a human', async () => {
    const a = adapter();
    await a.send('退订彩铃').assertReply(t('identity.number.prompt'))
      .send('13900139000').assertReply(t('identity.code.prompt', { msisdn: '13900139000' }));
    const code = await lastCode(app, '13900139000');
    const wrong = code === '000000' ? '111111' : '000000';
    await a.send(wrong).assertReply(t('identity.code.wrong', { left: 2 }))
      .send(wrong).assertReply(t('identity.code.wrong', { left: 1 }))
      .send(wrong).assertReply(t('identity.locked', { minutes: 30 }))
      .assertReply(t('handoff.queued', { position: 1, minutes: 3 }))
      // Even the right code is refused while locked.
      .send('退订彩铃').assertReply(t('identity.number.prompt'))
      .send('13900139000').assertReply(t('identity.locked', { minutes: 30 }))
      .assertReply(t('handoff.alreadyQueued', { position: 1, minutes: 3 }));
    const [ticket] = await app.handoffStore.listOpen();
    expect(ticket?.reason).toBe('identityLocked');
  });

  it('does not treat a negated request as a request', async () => {
    await adapter().send('我不想退订了').assertReply(t('idle.negated'));
  });

  it('answers attachments and over-long messages politely without changing the dialog', async () => {
    const a = adapter();
    await a.send({ type: 'message', attachments: [{ contentType: 'image/png', contentUrl: 'http://example.invalid/x.png' }] } as Partial<Activity>)
      .assertReply(t('input.nonText'))
      .send('退'.repeat(app.config.maxMessageChars + 1)).assertReply(t('input.tooLong'));
  });
});
