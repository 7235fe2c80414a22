import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type RunningBot } from '../support/running-bot.js';

// HANDOFF_MODE=external: the bot speaks the Bot Framework handoff protocol to an existing agent hub.
let bot: RunningBot;

beforeAll(async () => {
  bot = await startBot({ HANDOFF_MODE: 'external' });
});

afterAll(() => bot.stop());

const t = (key: string, params?: Record<string, string | number>) => bot.t(key, params);

describe('handoff to an external agent hub', () => {
  it('sends handoff.initiate with the masked transcript, stays silent once accepted and resumes on completed', async () => {
    const user = bot.client();
    await user.say('退订视频彩铃');
    await user.say('13800138000');
    const replies = await user.say('找真人');
    expect(replies.map((r) => r.text)).toEqual([t('handoff.external')]);

    const initiate = bot.channel.received.find((a) => a.type === 'event' && a.conversation.id === user.conversationId) as unknown as {
      name: string; value: { reason: string; msisdn: string }; attachments: { contentType: string; content: { activities: { text: string }[] } }[];
    };
    expect(initiate.name).toBe('handoff.initiate');
    expect(initiate.value).toMatchObject({ reason: 'user', msisdn: '138****8000' });
    const transcript = initiate.attachments[0]!.content.activities.map((a) => a.text).join('\n');
    expect(transcript).toContain('退订视频彩铃');
    expect(transcript).not.toContain('13800138000');

    expect((await user.post({ type: 'event', name: 'handoff.status', value: { state: 'accepted' } })).status).toBe(200);
    expect(await user.say('你好，我想问一下退订后还扣费吗')).toEqual([]);
    expect((await bot.app.handoff.openTicketFor(user.conversationId))?.status).toBe('assigned');

    expect((await user.post({ type: 'event', name: 'handoff.status', value: { state: 'completed' } })).status).toBe(200);
    await bot.channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(t('handoff.backResume'))));
    const resumed = await user.say('13800138000');
    expect(resumed.at(-1)?.channelData?.tuiding?.state).toBe('session.awaitingCode');
  });
});
