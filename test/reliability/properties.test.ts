import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MACHINE_VERSION, unsubscribeMachine } from '../../dialogs/unsubscribe.machine.js';
import type { DialogEffect, DialogEvent, DialogSubscription, Utterance } from '../../dialogs/unsubscribe.types.js';
import type { App } from '../../src/app.js';
import { stateToString } from '../../src/runtime/turn-runner.js';
import { tempDataDir, testApp } from '../support/app.js';
import { FakeChannel } from '../support/fake-channel.js';
import {
  CODE, DEMO_SUBSCRIPTIONS, filedRequest, ID_TAIL, initial, MSISDN, OTHER_MSISDN, PROFILE, result, RICH_PROFILE, say, step, SUBS, user,
  type Snapshot,
} from '../dialogs/helpers.js';

// Properties over random conversations: (a) the pure machine fed random user events, with every
// effect answered by a randomly chosen result; (b) the whole bot (NLU, runtime, stores, embedded
// back end) fed random Chinese utterances.

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2_147_483_647);

/** Persisted → JSON → restored, as the runtime does between turns. Throws when it does not round-trip. */
function roundTrip(snapshot: Snapshot): Snapshot {
  const persisted = JSON.parse(JSON.stringify(unsubscribeMachine.getPersistedSnapshot(snapshot))) as { value: Snapshot['value']; context: Snapshot['context'] };
  const restored = unsubscribeMachine.resolveState({ value: persisted.value, context: persisted.context });
  expect(restored.status).toBe('active');
  expect(restored.value).toEqual(snapshot.value);
  expect(restored.context).toEqual(snapshot.context);
  return restored;
}

// ---------------------------------------------------------------------------------------------
// (a) the machine
// ---------------------------------------------------------------------------------------------

const STRONG = new Set(['plan', 'broadband', 'number']);
const subById = new Map(Object.values(SUBS).map((s) => [s.subscriptionId, s]));
const NUMBER_LINE = SUBS.numberLine.subscriptionId;

/** User events as the NLU can produce them (negated never comes with intent unsubscribe or confirm). */
const userEvents: DialogEvent[] = [
  user.unsubscribe(),
  user.unsubscribe('vas', { serviceIds: ['vas-video-ringback'] }),
  user.unsubscribe('addon'),
  user.unsubscribe('number'),
  user.unsubscribe('plan'),
  user.unsubscribe('broadband'),
  user.unsubscribe('vas', { serviceIds: ['vas-music-member'], msisdn: MSISDN }),
  user.unsubscribe('number', { confirmsNumberClosure: true }),
  user.number(),
  user.number(OTHER_MSISDN),
  user.code(),
  user.code('000000'),
  user.secret(),
  user.secret('999999'),
  user.pick(1),
  user.pick(2, 3),
  user.pick(9),
  user.pickAll(),
  user.confirm(),
  user.closeNumber(),
  // 我不确认销号 as the NLU should see it, and 确认销号 said as a refusal.
  say({ intent: 'deny', negated: true, target: 'number', confirmsNumberClosure: false }),
  say({ intent: 'deny', confirmsNumberClosure: true }),
  say({ intent: 'cancel', negated: true, target: 'vas' }),
  say({ intent: 'human_agent', confirmsNumberClosure: true }),
  user.deny(),
  user.cancel(),
  user.human(),
  user.complaint(),
  user.help(),
  user.status(),
  user.status('TD-sub-101'),
  say({ intent: 'receipt' }),
  say({ intent: 'undo' }),
  say({ intent: 'review' }),
  say({ intent: 'greeting' }),
  say({ intent: 'lost_phone' }),
  say({ intent: 'lost_phone', msisdn: MSISDN }),
  say({ intent: 'unwanted_charge' }),
  say({ intent: 'still_charged' }),
  say({ intent: 'fee_question' }),
  user.gibberish(),
  say({ intent: 'other', code: CODE, msisdn: MSISDN }),
];

/** Short realistic runs, so that random sequences reach the confirmation and the filing often. */
const scripts: DialogEvent[][] = [
  [user.unsubscribe('vas', { serviceIds: ['vas-video-ringback'] }), user.number(), user.code(), user.confirm()],
  [user.unsubscribe('number'), user.number(), user.code(), user.secret(), user.closeNumber()],
  [user.unsubscribe('addon'), user.number(), user.code(), user.pick(1), user.confirm()],
  [user.unsubscribe(), user.number(), user.code(), user.pickAll(), user.secret(), user.confirm(), user.closeNumber()],
  // A lost phone is proven by the ID digits, not an SMS code; an unsubscribe right after must still ask for a code.
  [say({ intent: 'lost_phone', msisdn: MSISDN }), user.secret(), user.confirm(), user.unsubscribe('vas', { serviceIds: ['vas-video-ringback'] }), user.confirm()],
];

/** Results that arrive out of turn (a duplicate, a late reply): the machine must ignore or absorb them. */
const strayEvents: DialogEvent[] = [
  result.codeSent(), result.verified(), result.codeWrong(), result.locked(), result.expired(),
  result.secretVerified(), result.secretWrong(), result.loaded(), result.loadFailed(),
  result.filed(SUBS.videoRingback), result.fileFailed(), result.status(), result.statusFailed(),
  { type: 'backend.withdrawn', withdrawn: [filedRequest(SUBS.videoRingback)], tooLate: [] },
  { type: 'backend.withdrawFailed' },
];

type Command = { kind: 'turn'; events: DialogEvent[] } | { kind: 'stray'; event: DialogEvent };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...userEvents).map((e): Command => ({ kind: 'turn', events: [e] })) },
  { weight: 2, arbitrary: fc.constantFrom(...scripts).map((events): Command => ({ kind: 'turn', events })) },
  { weight: 1, arbitrary: fc.constantFrom(...strayEvents).map((event): Command => ({ kind: 'stray', event })) },
);

const subscriptionLists: { subs: DialogSubscription[]; profile: typeof PROFILE }[] = [
  { subs: DEMO_SUBSCRIPTIONS, profile: PROFILE },
  { subs: [SUBS.videoRingback], profile: PROFILE },
  { subs: [SUBS.numberLine], profile: RICH_PROFILE },
  { subs: [SUBS.plan, SUBS.data10g], profile: PROFILE },
  { subs: [], profile: PROFILE },
];

/** Picks the runtime's answer to an effect from the dice; null: the effect has no result event. */
function answer(effect: DialogEffect, roll: () => number): DialogEvent | null {
  const pick = <T>(options: T[]): T => options[roll() % options.length]!;
  switch (effect.type) {
    case 'say':
    case 'requestHuman':
      return null;
    case 'sendCode':
      return pick([result.codeSent(), result.codeSent(), result.codeSent(), result.sendFailed('rateLimited'), result.sendFailed('unavailable'), result.sendFailed('unknownNumber'), result.locked()]);
    case 'checkCode':
      // The verifier says yes only to the code it sent.
      return effect.params.code === CODE
        ? pick([result.verified(), result.verified(), result.verified(), result.expired(), result.locked()])
        : pick([result.codeWrong(2), result.codeWrong(1), result.locked()]);
    case 'checkSecret':
      return effect.params.value === ID_TAIL ? pick([result.secretVerified(), result.secretVerified(), result.locked()]) : pick([result.secretWrong(), result.locked()]);
    case 'loadSubscriptions': {
      if (roll() % 8 === 0) return result.loadFailed();
      const list = pick(subscriptionLists);
      return result.loaded(list.subs, list.profile);
    }
    case 'fileRequests': {
      if (roll() % 3 === 0) return result.fileFailed();
      const subs = effect.params.subscriptionIds.map((id) => subById.get(id)!);
      return { type: 'backend.filed', requests: subs.map((s) => filedRequest(s, `TD-${effect.params.filingSeq}-${s.subscriptionId}`)) };
    }
    case 'loadStatus':
      return pick([result.status(), result.status([filedRequest(SUBS.videoRingback)]), result.status([], 'receipt'), result.statusFailed()]);
    case 'withdrawRequests':
      return pick<DialogEvent>([
        { type: 'backend.withdrawn', withdrawn: effect.params.tickets.map((t) => ({ ...filedRequest(SUBS.videoRingback), ticket: t })), tooLate: [] },
        { type: 'backend.withdrawFailed' },
      ]);
    default:
      // Effects added later (e.g. suspendLine): answered by name when known, else left without a result.
      return answerOther(effect as { type: string }, roll);
  }
}

function answerOther(effect: { type: string }, roll: () => number): DialogEvent | null {
  if (effect.type === 'suspendLine') {
    return (roll() % 3 === 0 ? { type: 'line.suspendFailed' } : { type: 'line.suspended', ticket: 'SUSP-1', suspendedAt: '2026-03-02T02:00:00.000Z' }) as unknown as DialogEvent;
  }
  return null;
}

const explicitConfirm = (u: Utterance) => u.intent === 'confirm' && !u.negated;
const closurePhrase = (u: Utterance) => u.confirmsNumberClosure && !u.negated && u.intent !== 'deny' && u.intent !== 'cancel';

interface MachineStats { runs: number; filings: number; retries: number; numberClosures: number; strongFilings: number }

/** Runs one random conversation through transition(), checking the invariants at every effect. */
function checkConversation(commands: Command[], dice: number[], stats: MachineStats): void {
  let die = 0;
  const roll = () => dice.length === 0 ? 0 : dice[die++ % dice.length]!;
  let snapshot = initial();
  // The oracle: what the responder confirmed, independent of the machine's own bookkeeping.
  const verifiedNumbers = new Set<string>();
  let strongVerifiedFor: string | null = null;
  const loaded = new Map<string, Set<string>>();
  const filings = new Map<number, { key: string; failedSince: boolean }>();
  let highestSeq = 0;
  stats.runs++;

  const feed = (first: DialogEvent, answers: DialogEffect | null) => {
    const queue: { event: DialogEvent; answers: DialogEffect | null }[] = [{ event: first, answers }];
    for (let n = 0; queue.length > 0; n++) {
      expect(n, 'the machine keeps producing effects within one turn').toBeLessThan(32);
      const { event, answers: cause } = queue.shift()!;
      if (event.type === 'identity.verified' && cause?.type === 'checkCode') verifiedNumbers.add(cause.params.msisdn);
      if (event.type === 'secret.verified' && cause?.type === 'checkSecret') strongVerifiedFor = cause.params.msisdn;
      if (event.type === 'subscriptions.loaded' && cause?.type === 'loadSubscriptions') loaded.set(cause.params.msisdn, new Set(event.subscriptions.map((s) => s.subscriptionId)));
      if (event.type === 'backend.failed') for (const f of filings.values()) f.failedSince = true;

      const next = step(snapshot, event);
      for (const effect of next.effects) {
        if (effect.type === 'fileRequests') {
          const { msisdn, subscriptionIds, filingSeq } = effect.params;
          const trigger = event.type === 'user.message' ? event.utterance : null;
          expect(trigger, `fileRequests caused by ${event.type}, not by the user`).not.toBeNull();
          expect(verifiedNumbers.has(msisdn), `filed for ${msisdn} without a verified SMS code`).toBe(true);
          expect(subscriptionIds.length).toBeGreaterThan(0);
          for (const id of subscriptionIds) expect(loaded.get(msisdn)?.has(id), `filed ${id}, which ${msisdn} was not shown to have`).toBe(true);
          if (subscriptionIds.some((id) => STRONG.has(subById.get(id)!.target))) {
            expect(strongVerifiedFor, 'filed a plan, broadband or number closure without the service password / ID digits').toBe(msisdn);
            stats.strongFilings++;
          }
          const key = JSON.stringify({ msisdn, subscriptionIds });
          const earlier = filings.get(filingSeq);
          if (earlier) {
            // Same filingSeq = same idempotency key: only a retry after a failure, and of exactly the same request.
            expect(earlier.failedSince, `filingSeq ${filingSeq} filed twice without a backend.failed in between`).toBe(true);
            expect(key, `filingSeq ${filingSeq} reused for a different request`).toBe(earlier.key);
            expect(explicitConfirm(trigger!) || closurePhrase(trigger!), 'retry without an explicit confirmation').toBe(true);
            earlier.failedSince = false;
            stats.retries++;
          } else {
            expect(filingSeq, 'a new confirmation must get a new filingSeq').toBeGreaterThan(highestSeq);
            highestSeq = filingSeq;
            filings.set(filingSeq, { key, failedSince: false });
            if (subscriptionIds.includes(NUMBER_LINE)) {
              expect(closurePhrase(trigger!), 'closed a number without the explicit closure phrase').toBe(true);
              stats.numberClosures++;
            } else {
              expect(explicitConfirm(trigger!) || closurePhrase(trigger!), `filed on ${JSON.stringify(trigger)}`).toBe(true);
            }
            stats.filings++;
          }
        }
        const reply = answer(effect, roll);
        if (reply) queue.push({ event: reply, answers: effect });
      }
      snapshot = next.snapshot;
      // The password check belongs to one dialog.
      if (snapshot.value === 'idle') strongVerifiedFor = null;
    }
  };

  for (const command of commands) {
    if (command.kind === 'stray') feed(command.event, null);
    else for (const event of command.events) {
      feed(event, null);
      // Between turns the runtime persists the snapshot and restores it for the next message.
      snapshot = roundTrip(snapshot);
    }
  }
}

describe('the unsubscribe machine under random conversations', () => {
  it('files only verified, explicitly confirmed requests, each confirmation once, and every snapshot round-trips', () => {
    const stats: MachineStats = { runs: 0, filings: 0, retries: 0, numberClosures: 0, strongFilings: 0 };
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 24 }), fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 64 }), (commands, dice) => {
        checkConversation(commands, dice, stats);
      }),
      { numRuns: 400, seed: SEED },
    );
    console.log(`[reliability] machine properties (seed ${SEED}): ${stats.runs} runs, ${stats.filings} filings, ${stats.retries} retries, ${stats.strongFilings} strong filings, ${stats.numberClosures} number closures`);
    // Not vacuous: the random conversations did reach filings, retries and number closures.
    expect(stats.filings).toBeGreaterThan(20);
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.numberClosures).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) the whole bot
// ---------------------------------------------------------------------------------------------

const CORRECT_CODE = '<code>';
const SECRETS: Record<string, string> = { '18612345678': '975310', '13800138000': '246810', '15800158000': '314159' };

/**
 * Realistic user messages. Left out on purpose: 我不确认销号, which currently closes the number
 * (its own test below) and would make every run fail for that one known reason.
 */
const UTTERANCES = [
  '帮我把视频彩铃退了', '退订音乐会员', '流量包怎么取消', '取消来电提醒', '退订彩铃', '我要销号', '退订云盘会员', '不是，我要退视频彩铃',
  '13800138000', '我的号码是13900139000', '138 0013 8000', '18612345678', '15800158000', '12345678901',
  CORRECT_CODE, `验证码${CORRECT_CODE}`, '000000', '123456',
  '975310', '246810', '12345X', '111111',
  '第一个', '1', '都退', '第二个和第三个', '9',
  '确认', '好的，确认退订', '确认销号', '是的', '不退了', '算了', '我不确认',
  '转人工', '取消转人工', '帮助', '你好', '办好了吗', '撤销', 'asdfgh', '？？？', '😀', '我每个月都扣了些什么', '为什么扣我钱',
];
const EXPLICIT_CONFIRMATIONS = new Set(['确认', '好的，确认退订', '确认销号', '是的']);

const WHOLE_SCRIPTS = [
  ['退订音乐会员', '13800138000', CORRECT_CODE, '确认'],
  ['我要销号', '18612345678', CORRECT_CODE, '975310', '确认销号'],
  ['流量包怎么取消', '15800158000', CORRECT_CODE, '第一个', '确认'],
  ['取消来电提醒', '我的号码是13900139000', CORRECT_CODE, '确认'],
];

const utteranceSeqArb = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...UTTERANCES).map((u) => [u]) },
    { weight: 2, arbitrary: fc.constantFrom(...WHOLE_SCRIPTS) },
  ),
  { minLength: 1, maxLength: 6 },
).map((chunks) => chunks.flat().slice(0, 12));

describe('the whole bot under random Chinese conversations', () => {
  let app: App;
  let cleanup: () => void;
  const channel = new FakeChannel();
  let clock = Date.parse('2026-03-02T02:00:00Z');

  beforeAll(async () => {
    const data = tempDataDir();
    cleanup = data.cleanup;
    await channel.start();
    app = await testApp(data.dir, { CODE_MAX_PER_HOUR: '100000', UNDO_WINDOW_MINUTES: '10' }, { now: () => clock });
  });

  afterAll(async () => {
    await app?.stop();
    await channel.stop();
    cleanup?.();
  });

  const outbox = () => app.sms as unknown as { list(m: string, n?: number): Promise<{ id: string; text: string }[]> };

  it('answers every turn, always stores a restorable snapshot and files nothing without the right code', async () => {
    let runs = 0;
    let turns = 0;
    let proactiveAnswers = 0;
    const filedBy = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(utteranceSeqArb, async (texts) => {
        runs++;
        // A new conversation, two hours later: earlier codes expired, earlier lockouts over.
        clock += 2 * 3_600_000;
        const conversationId = `prop-${runs}-${Math.random().toString(36).slice(2, 8)}`;
        const reference = {
          channelId: 'emulator', serviceUrl: channel.url, conversation: { id: conversationId },
          bot: { id: 'bot-1', name: 'Bot' }, user: { id: 'user-1', name: 'User' }, locale: 'zh-CN',
        };
        const latestAtStart = new Map<string, string | undefined>();
        for (const m of ['13800138000', '13900139000', '18612345678', '15800158000']) latestAtStart.set(m, (await outbox().list(m, 1))[0]?.id);
        const codeTyped = new Set<string>();
        const secretTyped = new Set<string>();
        const filedBefore = new Set((await app.backend.listRequests({})).map((r) => r.ticket));

        for (const template of texts) {
          const record = await app.store.getConversation(conversationId);
          const msisdn = (record?.snapshot as { context?: { msisdn?: string | null } } | undefined)?.context?.msisdn ?? null;
          let text = template;
          if (template.includes(CORRECT_CODE)) {
            const [latest] = msisdn ? await outbox().list(msisdn, 1) : [];
            const fresh = latest && latest.id !== latestAtStart.get(msisdn!);
            const code = fresh ? /\d{6}/.exec(latest.text)?.[0] : undefined;
            if (code && msisdn) codeTyped.add(msisdn);
            text = template.replace(CORRECT_CODE, code ?? '654321');
          }
          if (msisdn && SECRETS[msisdn] === text) secretTyped.add(msisdn);

          const sentBefore = channel.messages(conversationId).length;
          const ticketsBefore = new Set((await app.backend.listRequests({})).map((r) => r.ticket));
          const output = await app.runner.handleMessage({ conversationId, text, locale: 'zh-CN', reference });
          turns++;
          if (output.replies.length === 0) {
            // Silent only while an agent holds the chat, or when leaving the queue (the answer comes as a proactive message).
            if (output.state !== 'handoff.assigned') {
              await channel.waitFor(() => channel.messages(conversationId).length > sentBefore, 3000);
              proactiveAnswers++;
            }
          } else {
            for (const r of output.replies) expect(r.text.trim().length, `empty reply to ${text}`).toBeGreaterThan(0);
            expect(output.replies.map((r) => r.text)).not.toContain(app.i18n.t('error.turn', {}, 'zh-CN'));
          }

          const stored = await app.store.getConversation(conversationId);
          expect(stored, 'no snapshot stored').toBeDefined();
          expect(stored!.machineVersion).toBe(MACHINE_VERSION);
          const persisted = JSON.parse(JSON.stringify(stored!.snapshot)) as { value: Snapshot['value']; context: Snapshot['context'] };
          const restored = unsubscribeMachine.resolveState({ value: persisted.value, context: persisted.context });
          expect(restored.status).toBe('active');
          if (output.state !== 'handoff.assigned') expect(stateToString(restored.value)).toBe(output.state);

          const newTickets = (await app.backend.listRequests({})).filter((r) => !ticketsBefore.has(r.ticket));
          if (newTickets.length > 0) expect(EXPLICIT_CONFIRMATIONS.has(text), `filed ${newTickets.map((r) => r.serviceName).join(',')} on "${text}"`).toBe(true);
        }

        // Every request this conversation filed: for a number whose current code it typed, plus the password for risky ones.
        const mine = (await app.backend.listRequests({})).filter((r) => !filedBefore.has(r.ticket) && r.idempotencyKey.startsWith(`${conversationId}:`));
        for (const r of mine) {
          expect(codeTyped.has(r.msisdn), `filed ${r.serviceName} for ${r.msisdn} without its code (typed: ${texts.join(' | ')})`).toBe(true);
          if (r.target === 'plan' || r.target === 'broadband' || r.target === 'number') {
            expect(secretTyped.has(r.msisdn), `filed ${r.serviceName} without the service password`).toBe(true);
          }
          filedBy.set(r.target, (filedBy.get(r.target) ?? 0) + 1);
        }
      }),
      { numRuns: 80, seed: SEED },
    );
    console.log(`[reliability] whole-bot properties (seed ${SEED}): ${runs} conversations, ${turns} turns, ${proactiveAnswers} answered proactively, filed ${JSON.stringify(Object.fromEntries(filedBy))}`);
  }, 90_000);

});

describe('answers that are not a confirmation', () => {
  let app: App;
  let cleanup: () => void;

  beforeAll(async () => {
    const data = tempDataDir();
    cleanup = data.cleanup;
    app = await testApp(data.dir, { CODE_MAX_PER_HOUR: '1000' });
  });

  afterAll(async () => {
    await app?.stop();
    cleanup?.();
  });

  it('does not close a number when the user says 我不确认销号 ("I do not confirm closing the number")', async () => {
    const conversationId = `refuse-closure-${Date.now()}`;
    const send = (text: string) => app.runner.handleMessage({ conversationId, text, locale: 'zh-CN', reference: null });
    await send('我要销号');
    await send('18612345678');
    const outbox = app.sms as unknown as { list(m: string, n?: number): Promise<{ text: string }[]> };
    const [sms] = await outbox.list('18612345678', 1);
    await send(/\d{6}/.exec(sms!.text)![0]);
    const asked = await send('975310');
    expect(asked.state).toBe('session.awaitingConfirmation');
    const refused = await send('我不确认销号');
    // Known bug: the NLU reads 我不确认销号 as intent confirm, not negated, so the closure phrase counts as given.
    // On a fresh app of its own: the random conversations above may leave a closure of this number under way,
    // which the bot then rightly reports instead of asking again.
    expect(await app.store.listByConversation(conversationId), `filed on 我不确认销号: ${refused.replies.map((r) => r.text).join(' / ')}`).toEqual([]);
    expect(refused.replies.map((r) => r.text).join('\n')).not.toContain(app.i18n.t('receipt.header', {}, 'zh-CN'));
  });

  it('does not file when the user answers the confirmation with 我的号码是13800138000 ("my number is …")', async () => {
    const conversationId = `not-a-confirmation-${Date.now()}`;
    const send = (text: string) => app.runner.handleMessage({ conversationId, text, locale: 'zh-CN', reference: null });
    await send('退订音乐会员');
    await send('13800138000');
    const outbox = app.sms as unknown as { list(m: string, n?: number): Promise<{ text: string }[]> };
    const [sms] = await outbox.list('13800138000', 1);
    const asked = await send(/\d{6}/.exec(sms!.text)![0]);
    expect(asked.state).toBe('session.awaitingConfirmation');
    const answered = await send('我的号码是13800138000');
    // Known bug: the NLU classifies 我的号码是… as intent confirm, and awaitingConfirmation files on any confirm intent.
    expect(await app.backend.listRequests({ msisdn: '13800138000' }), answered.replies.map((r) => r.text).join(' / ')).toEqual([]);
  });
});
