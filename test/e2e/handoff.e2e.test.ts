import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, textOf, type RunningBot } from '../support/running-bot.js';

// A subscriber escalates over the Emulator protocol; an agent works the chat through the agent API and live stream.
let bot: RunningBot;
const AGENT = { authorization: 'Bearer alice-token-0123456789', 'content-type': 'application/json' };
const OTHER = { authorization: 'Bearer bob-token-0123456789abc', 'content-type': 'application/json' };

beforeAll(async () => {
  bot = await startBot({ AGENTS: 'alice:alice-token-0123456789,bob:bob-token-0123456789abc' });
});

afterAll(() => bot.stop());

const t = (key: string, params?: Record<string, string | number>) => bot.t(key, params);

/** Alice claims the chat's open ticket; returns its id. */
async function claimedBy(conversationId: string): Promise<string> {
  const { id } = (await bot.app.handoff.openTicketFor(conversationId))!;
  expect((await fetch(`${bot.url}/agent/api/tickets/${id}/claim`, { method: 'POST', headers: AGENT })).status).toBe(200);
  return id;
}

/** Alice hands the chat back to the bot, to carry on where the dialog was. */
async function handBack(id: string): Promise<void> {
  expect((await fetch(`${bot.url}/agent/api/tickets/${id}/handback`, { method: 'POST', headers: AGENT, body: JSON.stringify({ mode: 'resume' }) })).status).toBe(200);
}

/** Reads server-sent events from the agent stream until `until` says stop. */
async function readStream(headers: Record<string, string>, until: (events: { event: string; data: unknown }[]) => boolean): Promise<{ event: string; data: unknown }[]> {
  const controller = new AbortController();
  const res = await fetch(`${bot.url}/agent/api/stream`, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  const events: { event: string; data: unknown }[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const timeout = setTimeout(() => controller.abort(), 10_000);
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const chunk = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(chunk)?.[1];
        const payload = /^data: (.*)$/m.exec(chunk)?.[1];
        if (event && payload) events.push({ event, data: JSON.parse(payload) });
      }
    }
  } finally {
    clearTimeout(timeout);
    controller.abort();
  }
  return events;
}

describe('human handoff', () => {
  it('refuses the agent API without a valid token', async () => {
    expect((await fetch(`${bot.url}/agent/api/queue`)).status).toBe(401);
    expect((await fetch(`${bot.url}/agent/api/queue`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${bot.url}/agent`)).status).toBe(200);
  });

  it('queues, relays both ways with the bot silent, and hands back to the dialog where it was', async () => {
    const user = bot.client();
    await user.say('退订音乐会员');
    await user.say('13800138000');

    // The agent is watching the live stream when the user escalates.
    const queued = readStream(AGENT, (events) => events.some((e) => e.event === 'queue'));
    await new Promise((r) => setTimeout(r, 100));
    const escalated = await user.say('转人工');
    expect(textOf(escalated)).toBe(t('handoff.queued', { position: 1, minutes: 3 }));
    expect((await queued).some((e) => e.event === 'queue')).toBe(true);

    const queue = (await (await fetch(`${bot.url}/agent/api/queue`, { headers: AGENT })).json()) as { open: { id: string; reason: string; msisdnMasked: string; position: number }[] };
    const ticket = queue.open.find((x) => x.msisdnMasked === '138****8000')!;
    expect(ticket.reason).toBe('user');
    expect(ticket.position).toBe(1);

    // The transcript and the dialog context are there, with personal data masked.
    const detail = (await (await fetch(`${bot.url}/agent/api/tickets/${ticket.id}`, { headers: AGENT })).json()) as {
      transcript: { from: string; text: string }[]; dialog: { state: string; msisdn: string; verified: boolean };
    };
    const transcriptText = detail.transcript.map((e) => e.text).join('\n');
    expect(transcriptText).toContain('退订音乐会员');
    expect(transcriptText).toContain('138****8000');
    expect(transcriptText).not.toContain('13800138000');
    expect(detail.dialog.state).toBe('session.awaitingCode');
    expect(detail.dialog.msisdn).toBe('138****8000');

    // Two agents cannot claim the same chat.
    const claims = await Promise.all([
      fetch(`${bot.url}/agent/api/tickets/${ticket.id}/claim`, { method: 'POST', headers: AGENT }),
      fetch(`${bot.url}/agent/api/tickets/${ticket.id}/claim`, { method: 'POST', headers: OTHER }),
    ]);
    expect(claims.map((r) => r.status).sort()).toEqual([200, 409]);
    const holder = claims[0]!.status === 200 ? AGENT : OTHER;
    const stranger = holder === AGENT ? OTHER : AGENT;
    const holderId = holder === AGENT ? 'alice' : 'bob';
    await bot.channel.waitFor(() => user.unprompted().some((a) => a.text === t('handoff.assigned', { agent: holderId })));

    // While the agent holds the chat the bot says nothing; the agent sees the message live.
    const heard = readStream(holder, (events) => events.some((e) => e.event === 'message'));
    await new Promise((r) => setTimeout(r, 100));
    const silent = await user.say('我的验证码好像过期了');
    expect(silent.map((a) => a.text)).toEqual([]);
    const messageEvents = await heard;
    expect(messageEvents.find((e) => e.event === 'message')?.data).toMatchObject({ from: 'user', text: '我的验证码好像过期了' });

    // The agent replies; only the holder may.
    const reply = await fetch(`${bot.url}/agent/api/tickets/${ticket.id}/messages`, { method: 'POST', headers: holder, body: JSON.stringify({ text: '您好，我来帮您重新发送验证码。' }) });
    expect(reply.status).toBe(200);
    await bot.channel.waitFor(() => user.unprompted().some((a) => a.text === '您好，我来帮您重新发送验证码。'));
    const intruder = await fetch(`${bot.url}/agent/api/tickets/${ticket.id}/messages`, { method: 'POST', headers: stranger, body: JSON.stringify({ text: 'x' }) });
    expect(intruder.status).toBe(409);

    // Hand back: the dialog resumes at the step it was on.
    const back = await fetch(`${bot.url}/agent/api/tickets/${ticket.id}/handback`, { method: 'POST', headers: holder, body: JSON.stringify({ mode: 'resume' }) });
    expect(back.status).toBe(200);
    await bot.channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(t('handoff.backResume'))));
    const resumed = await user.say('13800138000');
    expect(resumed.at(-1)?.channelData?.tuiding?.state).toBe('session.awaitingCode');

    // Every claim, message and hand-back is on record with the agent's id.
    const after = (await (await fetch(`${bot.url}/agent/api/tickets/${ticket.id}`, { headers: AGENT })).json()) as { audit: { agentId: string; action: string }[] };
    expect(after.audit.map((a) => `${a.agentId}:${a.action}`)).toEqual([`${holderId}:claim`, `${holderId}:message`, `${holderId}:handBack`]);

    // The transcript downloads as an Emulator .transcript file (an array of activities).
    const file = await fetch(`${bot.url}/agent/api/tickets/${ticket.id}/transcript`, { headers: AGENT });
    expect(file.headers.get('content-disposition')).toContain('.transcript');
    const activities = (await file.json()) as { type: string; text: string; from: { role: string } }[];
    expect(activities.every((a) => a.type === 'message')).toBe(true);
    expect(activities.some((a) => a.text === '您好，我来帮您重新发送验证码。')).toBe(true);
  });

  it('repeats the question the dialog waits for when an agent hands back with resume', async () => {
    const user = bot.client();
    await user.say('退订音乐会员');
    await user.say('13800138000');
    await user.say('转人工');
    const id = await claimedBy(user.conversationId);
    await handBack(id);
    // The subscriber is told what to answer, not left guessing which step "continues".
    const codePrompt = t('identity.code.prompt', { msisdn: '138****8000' });
    await bot.channel.waitFor(() => user.unprompted().some((a) => (a.text ?? '').startsWith(t('handoff.backResume'))));
    expect(user.unprompted().at(-1)?.text).toBe(`${t('handoff.backResume')}\n${codePrompt}`);
  });

  it('says the chat is over without promising to continue when nothing was under way', async () => {
    const user = bot.client();
    await user.say('转人工');
    const id = await claimedBy(user.conversationId);
    await handBack(id);
    await bot.channel.waitFor(() => user.unprompted().some((a) => a.text === t('handoff.backRestart')));
    expect(user.unprompted().some((a) => (a.text ?? '').startsWith(t('handoff.backResume')))).toBe(false);
  });

  it('repeats the pending question when the user ends the chat with an agent', async () => {
    const user = bot.client();
    await user.say('退订音乐会员');
    await user.say('13800138000');
    await user.say('转人工');
    await claimedBy(user.conversationId);
    await user.say('结束人工');
    const expected = `${t('handoff.endedByUser')}\n${t('identity.code.prompt', { msisdn: '138****8000' })}`;
    await bot.channel.waitFor(() => user.unprompted().some((a) => a.text === expected));
  });

  it('announces a user message to agents only once the transcript holds it', async () => {
    const user = bot.client();
    await user.say('转人工');
    const id = await claimedBy(user.conversationId);
    for (const text of ['第一条：还在吗', '第二条：我的彩铃还在扣费', '第三条：麻烦快一点']) {
      // The console reloads the chat when it hears of a message: the message must be there by then.
      const seen = new Promise<boolean>((resolve) => {
        bot.app.handoff.events.once('change', () => {
          void fetch(`${bot.url}/agent/api/tickets/${id}`, { headers: AGENT })
            .then((r) => r.json() as Promise<{ transcript: { text: string }[] }>)
            .then((d) => resolve(d.transcript.some((e) => e.text === text)));
        });
      });
      await user.say(text);
      expect(await seen).toBe(true);
    }
  });

  it('lets the user stop waiting and go back to the bot', async () => {
    const user = bot.client();
    await user.say('人工客服');
    expect(await bot.app.handoff.openTicketFor(user.conversationId)).toBeDefined();
    await user.say('取消转人工');
    await bot.channel.waitFor(() => user.unprompted().some((a) => a.text === t('handoff.cancelled')));
    expect(await bot.app.handoff.openTicketFor(user.conversationId)).toBeUndefined();
    const back = await user.say('退订彩铃');
    expect(textOf(back)).toBe(t('identity.number.prompt'));
  });

  it('never queues a user who says 取消转人工 while not waiting for anyone', async () => {
    const user = bot.client();
    expect(textOf(await user.say('取消转人工'))).toBe(t('handoff.notWaitingIdle'));
    expect(await bot.app.handoff.openTicketFor(user.conversationId)).toBeUndefined();

    // Mid-dialog, the question the bot waits for is asked again.
    await user.say('退订音乐会员');
    const replies = await user.say('取消转人工');
    expect(textOf(replies)).toBe(`${t('handoff.notWaiting')}\n${t('identity.number.prompt')}`);
    expect(replies.at(-1)?.channelData?.tuiding?.state).toBe('session.askingNumber');
    expect(await bot.app.handoff.openTicketFor(user.conversationId)).toBeUndefined();

    // Declining a human in other words neither queues the user (转人工 is in them) nor stops the dialog (不用 is).
    for (const declined of ['不用转人工', '不用人工了', '不需要人工客服']) {
      const again = await user.say(declined);
      expect(textOf(again)).toBe(`${t('handoff.notWaiting')}\n${t('identity.number.prompt')}`);
      expect(again.at(-1)?.channelData?.tuiding?.state).toBe('session.askingNumber');
    }
    expect(await bot.app.handoff.openTicketFor(user.conversationId)).toBeUndefined();
  });

  it('escalates complaints at once', async () => {
    const user = bot.client();
    const replies = await user.say('乱扣费，我要去工信部投诉你们');
    expect(textOf(replies)).toContain(t('handoff.queued', { position: 1, minutes: 3 }).slice(0, 8));
    expect((await bot.app.handoff.openTicketFor(user.conversationId))?.reason).toBe('complaint');
  });
});

describe('human handoff outside service hours', () => {
  let closed: RunningBot;
  // A one-hour window that starts two hours from now (Beijing time): now is always outside it.
  const start = (new Date().getUTCHours() + 8 + 2) % 24;
  const hours = `${start}:00-${(start + 1) % 24}:00`;

  beforeAll(async () => {
    closed = await startBot({ AGENTS: 'alice:alice-token-0123456789', HANDOFF_HOURS: hours });
  });

  afterAll(() => closed.stop());

  it('does not invite a second message it would not keep: asking again after leaving one says it was received', async () => {
    const user = closed.client();
    expect(textOf(await user.say('转人工'))).toBe(closed.t('handoff.outsideHours', { hours }));
    expect(textOf(await user.say('宽带老是断线，请明天上午回电'))).toBe(closed.t('handoff.messageLeft'));
    expect(textOf(await user.say('转人工'))).toBe(closed.t('handoff.messageAlreadyLeft', { hours }));
    const ticket = (await closed.app.handoff.openTicketFor(user.conversationId))!;
    expect(ticket.leftMessage).toBe('宽带老是断线，请明天上午回电');
  });
});
