import { describe, expect, it } from 'vitest';
import { promptMessages, unsubscribeMachine } from '../../dialogs/unsubscribe.machine.js';
import type { DialogEvent, Target, Utterance } from '../../dialogs/unsubscribe.types.js';
import {
  CODE, DEMO_SUBSCRIPTIONS, ID_TAIL, MSISDN, OTHER_MSISDN, PROFILE, RICH_PROFILE, SUBS,
  filedRequest, initial, lineKeys, ofType, result, run, say, sayKeys, user, verifiedRequest, where,
} from './helpers.js';

const RINGBACK = SUBS.videoRingback.serviceId;

/** A verified request for the video ringback alone: rests at the confirmation. */
const ringbackAtConfirmation = (): DialogEvent[] => verifiedRequest({ target: 'vas', serviceIds: [RINGBACK] });

/** A verified number closure, strong check passed: rests at the confirmation. */
const numberAtConfirmation = (profile = RICH_PROFILE): DialogEvent[] => [
  ...verifiedRequest({ target: 'number' }, DEMO_SUBSCRIPTIONS, profile),
  user.secret(),
  result.secretVerified(),
];

describe('identity', () => {
  it('asks for the number when an unsubscribe request arrives unverified', () => {
    const r = run([user.unsubscribe('vas')]);
    expect(where(r.snapshot)).toBe('session.askingNumber');
    expect(sayKeys(r.last)).toEqual(['identity.number.prompt']);
    expect(ofType(r.effects, 'sendCode')).toEqual([]);
  });

  it('sends a code to the number given in the first message', () => {
    const r = run([user.unsubscribe('vas', { msisdn: MSISDN })]);
    expect(where(r.snapshot)).toBe('session.sendingCode');
    expect(r.last).toEqual([{ type: 'sendCode', params: { msisdn: MSISDN } }]);

    const sent = run([result.codeSent()], r.snapshot);
    expect(where(sent.snapshot)).toBe('session.awaitingCode');
    expect(sent.last).toEqual([{ type: 'say', params: { key: 'identity.code.prompt', params: { msisdn: MSISDN } } }]);
  });

  it('sends the code to the number the user types after being asked', () => {
    const r = run([user.unsubscribe('vas'), user.number()]);
    expect(r.last).toEqual([{ type: 'sendCode', params: { msisdn: MSISDN } }]);
  });

  it('says what a number or code looks like when the digits typed make neither, and counts no miss or wrong code', () => {
    const asked = run([user.unsubscribe('vas')]);
    const short = run([say({ strayDigits: 10 })], asked.snapshot);
    expect(where(short.snapshot)).toBe('session.askingNumber');
    expect(sayKeys(short.last)).toEqual(['identity.number.invalid']);
    expect(short.snapshot.context.misses).toBe(asked.snapshot.context.misses);
    const waiting = run([user.number(), result.codeSent()], short.snapshot);
    for (const [digits, key] of [[5, 'identity.code.length'], [7, 'identity.code.length'], [10, 'identity.number.invalid']] as const) {
      const r = run([say({ strayDigits: digits })], waiting.snapshot);
      expect(where(r.snapshot)).toBe('session.awaitingCode');
      expect(sayKeys(r.last)).toEqual([key]);
      expect(ofType(r.last, 'checkCode')).toEqual([]);
    }
  });

  it('says how long the service password is when the digits typed at the second check are too few or too many, and checks nothing', () => {
    const at = run(verifiedRequest({ target: 'plan' }));
    expect(where(at.snapshot)).toBe('session.awaitingSecret');
    const r = run([say({ strayDigits: 5 })], at.snapshot);
    expect(where(r.snapshot)).toBe('session.awaitingSecret');
    expect(sayKeys(r.last)).toEqual(['identity.secret.length']);
    expect(ofType(r.last, 'checkSecret')).toEqual([]);
  });

  it('says what else proves who the user is when the password or ID is not at hand, and keeps waiting at the second check', () => {
    const at = run(verifiedRequest({ target: 'plan' }));
    const r = run([say({ intent: 'help', forgotSecret: true })], at.snapshot);
    expect(where(r.snapshot)).toBe('session.awaitingSecret');
    expect(ofType(r.last, 'say')[0]!.params).toMatchObject({ key: 'identity.secret.forgot', choices: [{ key: 'choice.human' }] });
    expect(ofType(r.last, 'checkSecret')).toEqual([]);
    // With the ID digits in the same message, they are checked.
    expect(where(run([say({ forgotSecret: true, idTail: '12345X' })], at.snapshot).snapshot)).toBe('session.checkingSecret');
  });

  it('takes 换个号码 as asking how to use another number, never as a no', () => {
    const other = say({ intent: 'deny', asksOtherNumber: true });
    const asking = run([user.unsubscribe('vas'), other]);
    expect(where(asking.snapshot)).toBe('session.askingNumber');
    expect(sayKeys(asking.last)).toEqual(['identity.number.another']);
    const coded = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent(), other]);
    expect(where(coded.snapshot)).toBe('session.awaitingCode');
    expect(sayKeys(coded.last)).toEqual(['identity.number.another']);
    // Verified already, and read as a fee question: which number the dialog is about.
    const confirming = run([...ringbackAtConfirmation(), say({ intent: 'fee_question', target: 'number', asksOtherNumber: true })]);
    expect(where(confirming.snapshot)).toBe('session.awaitingConfirmation');
    expect(ofType(confirming.last, 'say')[0]!.params).toMatchObject({ key: 'identity.number.other', params: { msisdn: MSISDN } });
  });

  it('sends a new code when the user gives another number while a code is awaited', () => {
    const r = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent(), user.number(OTHER_MSISDN)]);
    expect(where(r.snapshot)).toBe('session.sendingCode');
    expect(r.last).toEqual([{ type: 'sendCode', params: { msisdn: OTHER_MSISDN } }]);
  });

  it('checks the code the user typed and loads the subscriptions once verified', () => {
    const r = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent(), user.code()]);
    expect(r.last).toEqual([{ type: 'checkCode', params: { msisdn: MSISDN, code: CODE } }]);

    const ok = run([result.verified()], r.snapshot);
    expect(where(ok.snapshot)).toBe('session.loadingSubscriptions');
    expect(ok.snapshot.context.verified).toBe(true);
    expect(ok.last).toEqual([{ type: 'loadSubscriptions', params: { msisdn: MSISDN } }]);
  });

  it('says how many attempts are left after a wrong code and waits for another', () => {
    const r = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent(), user.code('000000'), result.codeWrong(2)]);
    expect(where(r.snapshot)).toBe('session.awaitingCode');
    expect(r.last).toEqual([{ type: 'say', params: { key: 'identity.code.wrong', params: { left: 2 } } }]);
    expect(r.snapshot.context.verified).toBe(false);
  });

  it('locks out after the verifier reports identity.locked and offers a human', () => {
    const r = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent(), user.code('000000'), result.locked(30)]);
    expect(where(r.snapshot)).toBe('idle');
    expect(ofType(r.last, 'say')[0]?.params).toMatchObject({ key: 'identity.locked', params: { minutes: 30 } });
    expect(ofType(r.last, 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'identityLocked' } }]);
    expect(r.snapshot.context).toMatchObject({ verified: false, msisdn: null });
    expect(ofType(r.effects, 'loadSubscriptions')).toEqual([]);
  });

  it('asks for the number again when the gateway does not know it', () => {
    const r = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.sendFailed('unknownNumber')]);
    expect(where(r.snapshot)).toBe('session.askingNumber');
    expect(r.snapshot.context.msisdn).toBeNull();
    expect(sayKeys(r.last)).toEqual(['identity.number.unknown', 'identity.number.prompt']);
  });

  it('gives up with a human choice when the SMS gateway is unavailable', () => {
    const r = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.sendFailed('unavailable')]);
    expect(where(r.snapshot)).toBe('idle');
    expect(ofType(r.last, 'say')[0]?.params).toEqual({ key: 'identity.code.unavailable', choices: [{ key: 'choice.human' }] });
  });

  it('a second request in the same conversation skips the SMS check but not the service password', () => {
    const first = run([...verifiedRequest({ target: 'plan' }), user.secret(), result.secretVerified(), user.confirm(), result.filed(SUBS.plan)]);
    expect(where(first.snapshot)).toBe('idle');
    expect(first.snapshot.context).toMatchObject({ verified: true, strongVerified: false, msisdn: MSISDN });

    const again = run([user.unsubscribe('broadband')], first.snapshot);
    expect(again.last).toEqual([{ type: 'loadSubscriptions', params: { msisdn: MSISDN } }]);
    const loaded = run([result.loaded()], again.snapshot);
    expect(where(loaded.snapshot)).toBe('session.awaitingSecret');
  });
});

describe('choosing what to cancel', () => {
  it('lists every cancellable subscription except the number line when the request names nothing', () => {
    const r = run(verifiedRequest());
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    const [list] = ofType(r.last, 'say');
    expect(list?.params.key).toBe('choose.prompt');
    // Names are passed by catalogue id, for the runtime to show in the reply's language.
    expect(list?.params.lines?.map((l) => l.params?.name)).toEqual(
      DEMO_SUBSCRIPTIONS.filter((s) => s.target !== 'number').map((s) => ({ kind: 'service', id: s.serviceId, name: s.name })),
    );
    expect(list?.params.choices?.at(-1)).toEqual({ key: 'choice.all' });
  });

  it('a single named match skips the list and goes to warnings', () => {
    const r = run(ringbackAtConfirmation());
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(sayKeys(r.effects)).not.toContain('choose.prompt');
    expect(sayKeys(r.last)).toEqual(['warn.header', 'confirm.prompt']);
    expect(r.snapshot.context.selected).toEqual([SUBS.videoRingback]);
  });

  it('several named services the number holds are all selected, with no list to pick from', () => {
    const r = run(verifiedRequest({ target: 'vas', serviceIds: [RINGBACK, SUBS.musicMember.serviceId] }));
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(sayKeys(r.effects)).not.toContain('choose.prompt');
    expect(r.snapshot.context.selected).toEqual([SUBS.videoRingback, SUBS.musicMember]);
    expect(lineKeys(r.last)).not.toContain('warn.partlyHeld');
  });

  it('a named service the number does not hold is said in the warning, not dropped without a word', () => {
    const r = run(verifiedRequest({ target: 'vas', serviceIds: [RINGBACK, 'vas-caller-reminder'] }));
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(r.snapshot.context.selected).toEqual([SUBS.videoRingback]);
    expect(lineKeys(r.last)[0]).toBe('warn.partlyHeld');
  });

  it('picks a run from either end of the list (前两个, 最后一个)', () => {
    const listed = run(verifiedRequest()).snapshot;
    const offered = listed.context.candidates;
    expect(offered.length).toBeGreaterThan(3);
    const firstTwo = run([say({ choice: { kind: 'first', count: 2 } })], listed);
    expect(firstTwo.snapshot.context.selected).toEqual(offered.slice(0, 2));
    const last = run([say({ choice: { kind: 'last', count: 1 } })], listed);
    expect(last.snapshot.context.selected).toEqual(offered.slice(-1));
    // More than the list holds is out of range, not everything.
    const tooMany = run([say({ choice: { kind: 'first', count: offered.length + 1 } })], listed);
    expect(where(tooMany.snapshot)).toBe('session.awaitingChoice');
    expect(sayKeys(tooMany.last)).toEqual(['choose.invalid']);
  });

  it('picks all but some from the list, by position, name or kind', () => {
    const listed = run(verifiedRequest()).snapshot;
    const offered = listed.context.candidates;
    const allBut = (indexes: number[], serviceIds: string[], targets: Target[]) => run([say({ intent: 'unsubscribe', choice: { kind: 'allExcept', indexes, serviceIds, targets } })], listed);
    expect(allBut([2], [], []).snapshot.context.selected).toEqual(offered.filter((_, i) => i !== 1));
    expect(allBut([], [RINGBACK], []).snapshot.context.selected).toEqual(offered.filter((s) => s.serviceId !== RINGBACK));
    expect(allBut([], [RINGBACK], ['broadband']).snapshot.context.selected).toEqual(offered.filter((s) => s.serviceId !== RINGBACK && s.target !== 'broadband'));
    // Keeping everything, or something not listed, is no pick.
    for (const r of [allBut(offered.map((_, i) => i + 1), [], []), allBut([], ['vas-caller-reminder'], []), allBut([offered.length + 1], [], [])]) {
      expect(where(r.snapshot)).toBe('session.awaitingChoice');
      expect(r.snapshot.context.selected).toEqual([]);
    }
  });

  it('除了视频彩铃都退了 as the first message: everything else is selected and warned about, nothing listed', () => {
    const r = run(verifiedRequest({ target: null, serviceIds: [], choice: { kind: 'allExcept', indexes: [], serviceIds: [RINGBACK], targets: [] } }));
    expect(sayKeys(r.effects)).not.toContain('choose.prompt');
    const everythingElse = DEMO_SUBSCRIPTIONS.filter((s) => s.target !== 'number' && s.serviceId !== RINGBACK);
    expect(r.snapshot.context.selected).toEqual(everythingElse);
    // The plan and broadband among them ask for the stronger check before the warnings.
    expect(where(r.snapshot)).toBe('session.awaitingSecret');
  });

  it('at the confirmation, all but some starts the choice again from the whole list', () => {
    const at = run(ringbackAtConfirmation()).snapshot;
    const r = run([say({ intent: 'unsubscribe', choice: { kind: 'allExcept', indexes: [], serviceIds: [SUBS.musicMember.serviceId], targets: ['plan', 'broadband', 'addon'] } })], at);
    expect(r.last).toEqual([{ type: 'loadSubscriptions', params: { msisdn: MSISDN } }]);
    const loaded = run([result.loaded(DEMO_SUBSCRIPTIONS, PROFILE)], r.snapshot);
    expect(loaded.snapshot.context.selected).toEqual([SUBS.videoRingback]);
    expect(where(loaded.snapshot)).toBe('session.awaitingConfirmation');
  });

  describe('a service described by its monthly fee', () => {
    it('每个月扣我15块的那个: the one service at that fee is selected', () => {
      const r = run(verifiedRequest({ feeFen: SUBS.musicMember.monthlyFeeFen }));
      expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
      expect(r.snapshot.context.selected).toEqual([SUBS.musicMember]);
    });

    it('with its kind (30元的流量包), only that kind at that fee', () => {
      const r = run(verifiedRequest({ target: 'addon', feeFen: SUBS.data10g.monthlyFeeFen }));
      expect(r.snapshot.context.selected).toEqual([SUBS.data10g]);
    });

    it('several at that fee are listed to pick from; none at it lists everything as a miss', () => {
      const twoAtTen = [...DEMO_SUBSCRIPTIONS, { ...SUBS.musicMember, subscriptionId: 'sub-110', serviceId: 'vas-caller-reminder', name: '来电提醒', monthlyFeeFen: SUBS.videoRingback.monthlyFeeFen }];
      const several = run(verifiedRequest({ feeFen: SUBS.videoRingback.monthlyFeeFen }, twoAtTen));
      expect(where(several.snapshot)).toBe('session.awaitingChoice');
      expect(several.snapshot.context.candidates.map((s) => s.serviceId)).toEqual([RINGBACK, 'vas-caller-reminder']);
      const none = run(verifiedRequest({ feeFen: 99_900 }));
      expect(where(none.snapshot)).toBe('session.awaitingChoice');
      expect(sayKeys(none.last)).toEqual(['choose.promptMissed']);
    });

    it('at the list, 15元那个 picks the one item at that fee, and says so when it is not one', () => {
      const listed = run(verifiedRequest()).snapshot;
      expect(run([say({ intent: 'unsubscribe', feeFen: SUBS.musicMember.monthlyFeeFen })], listed).snapshot.context.selected).toEqual([SUBS.musicMember]);
      const none = run([say({ intent: 'unsubscribe', feeFen: 1 })], listed);
      expect(where(none.snapshot)).toBe('session.awaitingChoice');
      expect(sayKeys(none.last)).toEqual(['choose.noFee']);
      expect(none.snapshot.context.misses).toBe(0);
    });
  });

  it('at a list narrowed to what was asked, a service the number holds outside it is taken instead', () => {
    const listed = run(verifiedRequest({ target: 'vas' })).snapshot;
    expect(listed.context.candidates.map((s) => s.target)).not.toContain('addon');
    const r = run([say({ intent: 'other', serviceIds: [SUBS.data10g.serviceId], target: 'addon' })], listed);
    expect(r.last).toEqual([{ type: 'loadSubscriptions', params: { msisdn: MSISDN } }]);
    const loaded = run([result.loaded(DEMO_SUBSCRIPTIONS, PROFILE)], r.snapshot);
    expect(loaded.snapshot.context.selected).toEqual([SUBS.data10g]);
  });

  describe('a cancellation already under way', () => {
    const PENDING = 'TD20261125000007';
    const withPendingRingback = DEMO_SUBSCRIPTIONS.map((s) => (s.serviceId === RINGBACK ? { ...s, pendingTicket: PENDING } : s));

    it('asked for again, it is said to be under way with its ticket, and nothing is offered or filed', () => {
      const r = run(verifiedRequest({ target: 'vas', serviceIds: [RINGBACK] }, withPendingRingback));
      expect(where(r.snapshot)).toBe('idle');
      const [said] = ofType(r.last, 'say');
      expect(said!.params.key).toBe('choose.alreadyPending');
      expect(said!.params.lines?.[0]).toEqual({ key: 'choose.pendingItem', params: { name: { kind: 'service', id: RINGBACK, name: SUBS.videoRingback.name }, ticket: PENDING } });
      expect(sayKeys(r.effects)).not.toContain('choose.promptMissed');
      expect(ofType(r.effects, 'fileRequests')).toEqual([]);
    });

    it('asked for with another service, only the other is confirmed and the warning says why', () => {
      const r = run(verifiedRequest({ target: 'vas', serviceIds: [RINGBACK, SUBS.musicMember.serviceId] }, withPendingRingback));
      expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
      expect(r.snapshot.context.selected).toEqual([SUBS.musicMember]);
      expect(lineKeys(r.last)).toContain('warn.alreadyPending');
      expect(lineKeys(r.last)).not.toContain('warn.partlyHeld');
    });

    it('is left out of the list of what can be cancelled, which says it is under way when its kind was asked for', () => {
      const listed = run(verifiedRequest({ target: 'vas' }, [...withPendingRingback, { ...SUBS.musicMember, subscriptionId: 'sub-109', serviceId: 'vas-caller-reminder', name: '来电提醒' }]));
      expect(where(listed.snapshot)).toBe('session.awaitingChoice');
      expect(listed.snapshot.context.candidates.map((s) => s.serviceId)).not.toContain(RINGBACK);
      expect(lineKeys(listed.last).at(-1)).toBe('warn.alreadyPending');
      // Picked from a list with nothing asked for, it is simply not there.
      const all = run(verifiedRequest({}, withPendingRingback));
      expect(all.snapshot.context.candidates.map((s) => s.serviceId)).not.toContain(RINGBACK);
      expect(lineKeys(all.last)).not.toContain('warn.alreadyPending');
    });
  });

  it('named services among others of their kind: only the named ones are selected', () => {
    const r = run(verifiedRequest({ target: 'vas', serviceIds: [SUBS.musicMember.serviceId] }));
    expect(r.snapshot.context.selected).toEqual([SUBS.musicMember]);
    expect(lineKeys(r.last)).not.toContain('warn.partlyHeld');
  });

  it('shows the whole list, saying so, when the named service is not among the subscriptions', () => {
    const r = run(verifiedRequest({ target: 'broadband', serviceIds: ['broadband-1000m'] }, [SUBS.videoRingback, SUBS.numberLine]));
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    expect(sayKeys(r.last)).toEqual(['choose.promptMissed']);
  });

  it('picks several by index, all by \'all\', rejects an out-of-range index', () => {
    const listed = run(verifiedRequest()).snapshot;
    const offered = listed.context.candidates;
    expect(offered).toHaveLength(5);

    const several = run([user.pick(1, 3, 1)], listed);
    expect(several.snapshot.context.selected).toEqual([offered[0], offered[2]]);

    const all = run([user.pickAll()], listed);
    expect(all.snapshot.context.selected).toEqual(offered);

    const outOfRange = run([user.pick(2, 9)], listed);
    expect(where(outOfRange.snapshot)).toBe('session.awaitingChoice');
    expect(outOfRange.snapshot.context.selected).toEqual([]);
    expect(ofType(outOfRange.last, 'say')[0]?.params).toMatchObject({ key: 'choose.invalid', params: { max: 5 } });
  });

  it('picks a listed service by name', () => {
    const listed = run(verifiedRequest({ target: 'vas' })).snapshot;
    const r = run([say({ intent: 'unsubscribe', serviceIds: [SUBS.musicMember.serviceId] })], listed);
    expect(r.snapshot.context.selected).toEqual([SUBS.musicMember]);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
  });

  it('ends the dialog when there is nothing to cancel', () => {
    const r = run(verifiedRequest({ target: 'vas' }, [SUBS.numberLine]));
    expect(where(r.snapshot)).toBe('idle');
    expect(sayKeys(r.last)).toEqual(['choose.nothing']);
  });

  it('apologises with a human choice when the subscriptions cannot be loaded', () => {
    const events = verifiedRequest({ target: 'vas' });
    const r = run([...events.slice(0, -1), result.loadFailed()]);
    expect(where(r.snapshot)).toBe('idle');
    expect(ofType(r.last, 'say')[0]?.params).toEqual({ key: 'backend.unavailable', choices: [{ key: 'choice.human' }] });
  });
});

describe('risk checks and warnings', () => {
  it.each<Target>(['plan', 'broadband', 'number'])('asks for the service password before a %s closure', (target) => {
    const r = run(verifiedRequest({ target }));
    expect(where(r.snapshot)).toBe('session.awaitingSecret');
    // It says what needs the check: the services by name, or the closure of the number.
    const [asked] = ofType(r.last, 'say');
    if (target === 'number') expect(asked!.params).toEqual({ key: 'identity.secret.promptNumber' });
    else expect(asked!.params).toEqual({ key: 'identity.secret.prompt', params: { names: r.snapshot.context.selected.map((s) => ({ kind: 'service', id: s.serviceId, name: s.name })) } });
    expect(r.snapshot.context.prompt).toEqual(asked!.params);
    expect(sayKeys(r.effects)).not.toContain('warn.header');

    const checking = run([user.secret()], r.snapshot);
    expect(checking.last).toEqual([{ type: 'checkSecret', params: { msisdn: MSISDN, value: ID_TAIL } }]);

    const passed = run([result.secretVerified()], checking.snapshot);
    expect(where(passed.snapshot)).toBe('session.awaitingConfirmation');
    expect(sayKeys(passed.last)[0]).toBe('warn.header');
  });

  it('asks for the service password when a strong service is among several picked', () => {
    const r = run([...verifiedRequest(), user.pickAll()]);
    expect(where(r.snapshot)).toBe('session.awaitingSecret');
  });

  it('needs no service password for a value-added service', () => {
    const r = run(ringbackAtConfirmation());
    expect(ofType(r.effects, 'checkSecret')).toEqual([]);
    expect(sayKeys(r.effects)).not.toContain('identity.secret.prompt');
  });

  it('re-asks for the service password with the attempts left, and locks out with a human', () => {
    const atSecret = run([...verifiedRequest({ target: 'plan' }), user.secret('000000')]).snapshot;
    const wrong = run([result.secretWrong(1)], atSecret);
    expect(where(wrong.snapshot)).toBe('session.awaitingSecret');
    expect(wrong.last).toEqual([{ type: 'say', params: { key: 'identity.secret.wrong', params: { left: 1 } } }]);

    const locked = run([result.locked(60)], atSecret);
    expect(where(locked.snapshot)).toBe('idle');
    expect(ofType(locked.last, 'requestHuman')[0]?.params).toEqual({ reason: 'identityLocked' });
    expect(ofType(locked.effects, 'fileRequests')).toEqual([]);
  });

  it('the warnings for closing a number mention arrears, balance, bound accounts, reissue and alternatives', () => {
    const r = run(numberAtConfirmation(RICH_PROFILE));
    const lines = ofType(r.last, 'say')[0]?.params.lines ?? [];
    expect(lines.map((l) => l.key)).toEqual(expect.arrayContaining([
      'warn.number.title', 'warn.number.arrears', 'warn.number.balance', 'warn.number.bound', 'warn.number.reissue', 'warn.number.alternatives',
    ]));
    expect(lines).toEqual(expect.arrayContaining([
      { key: 'warn.number.arrears', params: { amountFen: 1250 } },
      { key: 'warn.number.balance', params: { amountFen: 5630 } },
      { key: 'warn.number.bound', params: { accounts: [{ kind: 'account', name: '微信支付' }, { kind: 'account', name: '支付宝' }] } },
    ]));
    expect(ofType(r.last, 'say')[1]?.params).toMatchObject({ key: 'confirm.number.prompt', params: { msisdn: MSISDN } });
  });

  it('leaves out the arrears, balance and bound-account warnings when there are none', () => {
    const r = run(numberAtConfirmation({ arrearsFen: 0, balanceFen: 0, boundAccounts: [] }));
    const keys = lineKeys(r.last);
    expect(keys).not.toContain('warn.number.arrears');
    expect(keys).not.toContain('warn.number.balance');
    expect(keys).not.toContain('warn.number.bound');
    expect(keys).toEqual(expect.arrayContaining(['warn.number.reissue', 'warn.number.alternatives']));
  });

  it('warns about the contract penalty of a plan and the refund rule of a service', () => {
    const plan = run([...verifiedRequest({ target: 'plan' }), user.secret(), result.secretVerified()]);
    expect(ofType(plan.last, 'say')[0]?.params.lines).toEqual(expect.arrayContaining([
      { key: 'warn.contract', params: { until: '2027-06-30', penaltyFen: 30000 } },
      { key: 'warn.refund.no' },
    ]));
    expect(lineKeys(run(ringbackAtConfirmation()).last)).toContain('warn.refund.yes');
  });
});

describe('confirmation and filing', () => {
  it('files exactly the selected subscriptions for the verified number when the user confirms', () => {
    const r = run([...ringbackAtConfirmation(), user.confirm()]);
    expect(where(r.snapshot)).toBe('session.filing');
    expect(r.last).toEqual([{ type: 'fileRequests', params: { msisdn: MSISDN, subscriptionIds: [SUBS.videoRingback.subscriptionId], filingSeq: 1, dispute: false } }]);
  });

  it('shows the receipt and remembers the tickets once filed', () => {
    const r = run([...ringbackAtConfirmation(), user.confirm(), result.filed(SUBS.videoRingback)]);
    expect(where(r.snapshot)).toBe('idle');
    const [receipt] = ofType(r.last, 'say');
    expect(receipt?.params.key).toBe('receipt.header');
    expect(receipt?.params.lines).toEqual([
      { key: 'receipt.item', params: { ticket: 'TD-sub-101', name: { kind: 'service', name: '视频彩铃' }, createdAt: '2025-12-20T02:00:00.000Z', effectiveAt: '2026-01-01', code: 'ABCDEFGHJK' } },
      { key: 'receipt.fee.refund', params: { feeFen: 600 } },
      { key: 'receipt.footer' },
    ]);
    expect(r.snapshot.context).toMatchObject({ tickets: ['TD-sub-101'], verified: true, selected: [] });
  });

  it('files nothing when the user declines at the confirmation', () => {
    const r = run([...ringbackAtConfirmation(), user.deny()]);
    expect(where(r.snapshot)).toBe('idle');
    expect(sayKeys(r.last)).toEqual(['confirm.declined']);
    expect(ofType(r.effects, 'fileRequests')).toEqual([]);
  });

  it('closing a number requires the explicit phrase, a plain 确认 is not enough', () => {
    const atConfirmation = run(numberAtConfirmation()).snapshot;
    const plain = run([user.confirm()], atConfirmation);
    expect(where(plain.snapshot)).toBe('session.awaitingConfirmation');
    expect(ofType(plain.effects, 'fileRequests')).toEqual([]);
    expect(sayKeys(plain.last)).toEqual(['confirm.number.needPhrase']);

    const phrase = run([user.closeNumber()], plain.snapshot);
    expect(phrase.last).toEqual([{ type: 'fileRequests', params: { msisdn: MSISDN, subscriptionIds: [SUBS.numberLine.subscriptionId], filingSeq: 1, dispute: false } }]);
  });

  it('retrying after backend.failed reuses the same filingSeq (idempotent)', () => {
    const failed = run([...ringbackAtConfirmation(), user.confirm(), result.fileFailed()]);
    expect(where(failed.snapshot)).toBe('session.retryFiling');
    expect(sayKeys(failed.last)).toEqual(['file.failed']);
    expect(ofType(failed.last, 'requestHuman')[0]?.params).toEqual({ reason: 'backendFailed' });

    const retried = run([user.confirm()], failed.snapshot);
    const [first] = ofType(failed.effects, 'fileRequests');
    const [second] = ofType(retried.last, 'fileRequests');
    expect(second?.params).toEqual(first?.params);
    expect(second?.params.filingSeq).toBe(1);
  });

  it('a new confirmation after a successful filing gets a new filingSeq', () => {
    const done = run([...ringbackAtConfirmation(), user.confirm(), result.filed(SUBS.videoRingback)]).snapshot;
    const next = run([user.unsubscribe('vas', { serviceIds: [SUBS.musicMember.serviceId] }), result.loaded(), user.confirm()], done);
    expect(ofType(next.last, 'fileRequests')[0]?.params).toEqual({ msisdn: MSISDN, subscriptionIds: [SUBS.musicMember.subscriptionId], filingSeq: 2, dispute: false });
  });
});

describe('leaving, help and hand-off', () => {
  /** Where a dialog can rest, how to get there, and what a cancel there says. */
  const restingPoints: [string, DialogEvent[], string][] = [
    ['askingNumber', [user.unsubscribe('vas')], 'dialog.cancelled'],
    ['sendingCode', [user.unsubscribe('vas', { msisdn: MSISDN })], 'dialog.cancelled'],
    ['awaitingCode', [user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent()], 'dialog.cancelled'],
    ['checkingCode', [user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent(), user.code()], 'dialog.cancelled'],
    ['loadingSubscriptions', verifiedRequest().slice(0, -1), 'dialog.cancelled'],
    ['awaitingChoice', verifiedRequest(), 'dialog.cancelled'],
    ['awaitingSecret', verifiedRequest({ target: 'plan' }), 'dialog.cancelled'],
    ['checkingSecret', [...verifiedRequest({ target: 'plan' }), user.secret()], 'dialog.cancelled'],
    ['awaitingConfirmation', ringbackAtConfirmation(), 'confirm.declined'],
    ['retryFiling', [...ringbackAtConfirmation(), user.confirm(), result.fileFailed()], 'dialog.cancelled'],
  ];

  it.each(restingPoints)('cancel at %s returns to idle without filing', (state, events, key) => {
    const at = run(events);
    expect(where(at.snapshot)).toBe(`session.${state}`);
    const r = run([user.cancel()], at.snapshot);
    expect(where(r.snapshot)).toBe('idle');
    expect(r.last).toEqual([{ type: 'say', params: { key } }]);
    expect(r.snapshot.context).toMatchObject({ selected: [], candidates: [], strongVerified: false, prompt: null });
  });

  it.each(restingPoints)('asking for a human at %s records it and keeps the dialog where it was', (state, events) => {
    const at = run(events).snapshot;
    const r = run([user.human()], at);
    expect(ofType(r.last, 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'user' } }]);
    expect(where(r.snapshot)).toBe(`session.${state}`);
    expect(ofType(r.effects, 'fileRequests')).toEqual([]);
  });

  it.each(restingPoints)('a complaint at %s goes to a human at once', (state, events) => {
    const r = run([user.complaint()], run(events).snapshot);
    expect(ofType(r.last, 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'complaint' } }]);
    expect(where(r.snapshot)).toBe(`session.${state}`);
  });

  it('a complaint that also asks to cancel is queued for a human and the cancellation starts meanwhile', () => {
    const r = run([say({ intent: 'unsubscribe', target: 'vas', msisdn: MSISDN, complaint: true })]);
    expect(ofType(r.last, 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'complaint' } }]);
    expect(ofType(r.last, 'sendCode')).toEqual([{ type: 'sendCode', params: { msisdn: MSISDN } }]);
  });

  it('keeps the verified number after a cancel so the next request needs no new code', () => {
    const r = run([...ringbackAtConfirmation(), user.cancel(), user.unsubscribe('vas')]);
    expect(r.last).toEqual([{ type: 'loadSubscriptions', params: { msisdn: MSISDN } }]);
  });

  it('two misunderstood messages in a row offer a human', () => {
    const atCode = run([user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent()]).snapshot;
    const r = run([user.gibberish(), user.gibberish()], atCode);
    const [firstMiss, secondMiss] = r.steps;
    const prompt = { key: 'identity.code.prompt', params: { msisdn: MSISDN } };
    expect(firstMiss?.effects).toEqual([{ type: 'say', params: { key: 'fallback.reprompt', lines: [prompt], choices: [] } }]);
    expect(ofType(firstMiss?.effects ?? [], 'requestHuman')).toEqual([]);
    expect(sayKeys(secondMiss?.effects ?? [])).toEqual(['fallback.escalate']);
    expect(ofType(secondMiss?.effects ?? [], 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'misunderstood' } }]);
    expect(r.snapshot.context.misses).toBe(0);
  });

  it('an understood answer in between resets the misunderstanding count', () => {
    const r = run([user.unsubscribe('vas'), user.gibberish(), user.number(), result.codeSent(), user.gibberish()]);
    expect(sayKeys(r.last)).toEqual(['fallback.reprompt']);
  });

  it('help repeats the current question without counting as a miss', () => {
    const atChoice = run(verifiedRequest({ target: 'vas' })).snapshot;
    const r = run([user.help()], atChoice);
    // The list comes again with the question: on a channel without buttons the numbers mean nothing without it.
    const listed = atChoice.context.candidates.map((s, i) => ({ key: 'choose.item', params: { n: i + 1, name: expect.objectContaining({ id: s.serviceId }), feeFen: s.monthlyFeeFen } }));
    expect(listed.length).toBeGreaterThan(1);
    expect(r.last).toEqual([{ type: 'say', params: { key: 'help.text', lines: [{ key: 'choose.prompt' }, ...listed], choices: atChoice.context.promptChoices } }]);
    expect(r.snapshot.context.misses).toBe(0);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
  });

  it('the user can change the service mid-dialog', () => {
    const atConfirmation = run(ringbackAtConfirmation()).snapshot;
    const changed = run([user.unsubscribe('broadband')], atConfirmation);
    expect(where(changed.snapshot)).toBe('session.loadingSubscriptions');
    expect(changed.last).toEqual([{ type: 'loadSubscriptions', params: { msisdn: MSISDN } }]);
    expect(changed.snapshot.context).toMatchObject({ target: 'broadband', selected: [] });

    const r = run([result.loaded(), user.secret(), result.secretVerified(), user.confirm()], changed.snapshot);
    expect(ofType(r.effects, 'fileRequests')).toEqual([
      { type: 'fileRequests', params: { msisdn: MSISDN, subscriptionIds: [SUBS.broadband.subscriptionId], filingSeq: 1, dispute: false } },
    ]);
  });

  it('a negated request in idle starts no dialog', () => {
    const r = run([say({ intent: 'cancel', negated: true, target: 'vas' })]);
    expect(where(r.snapshot)).toBe('idle');
    expect(sayKeys(r.last)).toEqual(['idle.negated']);
  });

  it('a confirmation naming a service with nothing pending starts a request', () => {
    const r = run([say({ intent: 'confirm', target: 'vas', serviceIds: [RINGBACK], msisdn: MSISDN })]);
    expect(r.last).toEqual([{ type: 'sendCode', params: { msisdn: MSISDN } }]);
  });

  it('a confirmation with nothing pending says so', () => {
    const r = run([user.confirm()]);
    expect(where(r.snapshot)).toBe('idle');
    expect(sayKeys(r.last)).toEqual(['idle.nothingPending']);
  });
});

describe('status queries', () => {
  it('status query when verified emits loadStatus', () => {
    const done = run([...ringbackAtConfirmation(), user.confirm(), result.filed(SUBS.videoRingback)]).snapshot;
    const r = run([user.status()], done);
    expect(r.last).toEqual([{ type: 'loadStatus', params: { msisdn: MSISDN, ticket: null, tickets: ['TD-sub-101'], view: 'status' } }]);

    const shown = run([result.status([{ ...filedRequest(SUBS.videoRingback), status: 'completed' }])], r.snapshot);
    expect(where(shown.snapshot)).toBe('idle');
    expect(ofType(shown.last, 'say')[0]?.params).toMatchObject({ key: 'status.header', lines: [{ key: 'status.item.completed' }] });
  });

  it('status query in the middle of a dialog emits loadStatus and keeps the step', () => {
    const atChoice = run(verifiedRequest({ target: 'vas' })).snapshot;
    const r = run([user.status('TD-1')], atChoice);
    expect(r.last).toEqual([{ type: 'loadStatus', params: { msisdn: MSISDN, ticket: 'TD-1', tickets: [], view: 'status' } }]);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
  });

  it('an unverified status query with nothing found verifies the number, then looks again', () => {
    const asked = run([user.status()]);
    expect(asked.last).toEqual([{ type: 'loadStatus', params: { msisdn: null, ticket: null, tickets: [], view: 'status' } }]);

    const none = run([result.status([])], asked.snapshot);
    expect(where(none.snapshot)).toBe('session.askingNumber');
    expect(sayKeys(none.last)).toEqual(['identity.number.promptStatus']);

    const r = run([user.number(), result.codeSent(), user.code(), result.verified()], none.snapshot);
    expect(where(r.snapshot)).toBe('idle');
    expect(r.last).toEqual([{ type: 'loadStatus', params: { msisdn: MSISDN, ticket: null, tickets: [], view: 'status' } }]);
    expect(ofType(r.effects, 'loadSubscriptions')).toEqual([]);
  });
});

describe('persistence', () => {
  it('a persisted snapshot restores via machine.resolveState({value, context}) and continues', () => {
    const live = run(ringbackAtConfirmation()).snapshot;
    const stored = JSON.parse(JSON.stringify({ value: live.value, context: live.context })) as { value: typeof live.value; context: typeof live.context };

    const restored = unsubscribeMachine.resolveState(stored);
    expect(where(restored)).toBe('session.awaitingConfirmation');
    expect(restored.context).toEqual(live.context);

    const r = run([user.confirm()], restored);
    expect(r.last).toEqual([{ type: 'fileRequests', params: { msisdn: MSISDN, subscriptionIds: [SUBS.videoRingback.subscriptionId], filingSeq: 1, dispute: false } }]);
  });

  it('a restored idle snapshot behaves like a fresh start', () => {
    const restored = unsubscribeMachine.resolveState({ value: 'idle', context: initial().context });
    const r = run([user.unsubscribe('vas')], restored);
    expect(where(r.snapshot)).toBe('session.askingNumber');
  });
});

describe('receipts', () => {
  it('the receipt after filing repeats fees, penalty and the verification code of each request', () => {
    const plan = SUBS.plan;
    const r = run([...verifiedRequest({ intent: 'unsubscribe', target: 'plan', serviceIds: [plan.serviceId] }), user.secret(), result.secretVerified(), say({ intent: 'confirm' }), result.filed(plan)]);
    const receipt = ofType(r.last, 'say').find((e) => e.params.key === 'receipt.header')!;
    const keys = receipt.params.lines!.map((l) => l.key);
    expect(keys).toEqual(expect.arrayContaining(['receipt.item', 'receipt.penalty', 'receipt.footer']));
    expect(receipt.params.lines![0]!.params).toMatchObject({ ticket: `TD-${plan.subscriptionId}`, code: 'ABCDEFGHJK' });
  });

  it('asking for the receipt again when verified shows receipts, not progress', () => {
    const vas = SUBS.musicMember;
    const filed = run([...verifiedRequest({ intent: 'unsubscribe', serviceIds: [vas.serviceId] }), say({ intent: 'confirm' }), result.filed(vas)]);
    const asked = run([say({ intent: 'receipt' })], filed.snapshot);
    expect(asked.last).toEqual([{ type: 'loadStatus', params: { msisdn: filed.snapshot.context.msisdn, ticket: null, tickets: [`TD-${vas.subscriptionId}`], view: 'receipt' } }]);
    const shown = run([result.status([filedRequest(vas)], 'receipt')], asked.snapshot);
    expect(sayKeys(shown.last)).toEqual(['receipt.again']);
  });
});

describe('subscription review', () => {
  it('我要退订 then 我都不知道开了哪些业务: the same dialog turns into the review, with nothing said to be dropped', () => {
    const asked = run([user.unsubscribe()]);
    expect(where(asked.snapshot)).toBe('session.askingNumber');
    const r = run([say({ intent: 'review' })], asked.snapshot);
    expect(where(r.snapshot)).toBe('session.askingNumber');
    expect(r.snapshot.context.purpose).toBe('review');
    expect(sayKeys(r.last)).toEqual(['review.afterCheck']);
    expect(sayKeys(r.effects)).not.toContain('switch.from.unsubscribe');
    const listed = run([user.number(), result.codeSent(), user.code(), result.verified(), result.loaded(DEMO_SUBSCRIPTIONS, PROFILE)], r.snapshot);
    expect(sayKeys(listed.last)).toEqual(['review.header']);
  });

  it('a named cancellation asked to become a review is a new dialog, as before', () => {
    const asked = run([user.unsubscribe('vas', { serviceIds: [SUBS.videoRingback.serviceId] })]);
    const r = run([say({ intent: 'review' })], asked.snapshot);
    expect(sayKeys(r.effects)).toContain('switch.from.unsubscribe');
  });

  it('lists every paid item with usage, points out the unused ones, and offers no cancel-everything button', () => {
    const subs = [
      { ...SUBS.videoRingback, since: '2024-03-15', channel: '短信', lastUsedAt: null, unused: true },
      { ...SUBS.musicMember, since: '2025-01-08', channel: 'APP', lastUsedAt: '2026-11-20T00:00:00.000Z', unused: false },
      SUBS.numberLine,
    ];
    const r = run([say({ intent: 'review', msisdn: MSISDN }), result.codeSent(), user.code(), result.verified(), result.loaded(subs)]);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    const [shown] = ofType(r.last, 'say');
    expect(shown!.params.key).toBe('review.header');
    expect(shown!.params.lines!.map((l) => l.key)).toEqual(['review.itemNeverUsed', 'review.item', 'review.total', 'review.unused', 'review.prompt']);
    expect(shown!.params.lines!.find((l) => l.key === 'review.unused')!.params).toMatchObject({ names: [{ kind: 'service', id: SUBS.videoRingback.serviceId, name: '视频彩铃' }], savingFen: SUBS.videoRingback.monthlyFeeFen });
    expect(shown!.params.choices!.map((c) => c.key)).toEqual(['choice.item', 'choice.item']);

    const picked = run([say({ choice: { kind: 'indexes', indexes: [1, 2] } })], r.snapshot);
    expect(where(picked.snapshot)).toBe('session.awaitingConfirmation');
    expect(lineKeys(picked.last)).toEqual(expect.arrayContaining(['warn.service.title']));
    expect(ofType(picked.last, 'fileRequests')).toEqual([]);
  });
});

describe('still charged after cancelling', () => {
  it('explains completed cancellations, and hands pending ones to a human', () => {
    const vas = SUBS.musicMember;
    const filed = run([...verifiedRequest({ intent: 'unsubscribe', serviceIds: [vas.serviceId] }), say({ intent: 'confirm' }), result.filed(vas)]);
    const asked = run([say({ intent: 'still_charged' })], filed.snapshot);
    expect(ofType(asked.last, 'loadStatus')[0]!.params.view).toBe('charges');

    const done = run([result.status([{ ...filedRequest(vas), status: 'completed' }], 'charges')], asked.snapshot);
    expect(lineKeys(done.last)).toEqual(['charges.completed']);
    expect(ofType(done.last, 'requestHuman')).toEqual([]);

    const stuck = run([result.status([{ ...filedRequest(vas), status: 'processing' }], 'charges')], asked.snapshot);
    expect(lineKeys(stuck.last)).toEqual(['charges.pending']);
    expect(ofType(stuck.last, 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'stillCharged' } }]);

    // No cancellation on record: it may have been done elsewhere; say what to do rather than only "nothing found".
    const none = run([result.status([], 'charges')], asked.snapshot);
    expect(sayKeys(none.last)).toEqual(['charges.none']);
  });

  it('claims back a charge booked after a completed cancellation took effect, and says what, which ticket and by when', () => {
    const vas = SUBS.videoRingback;
    const charged = { ...filedRequest(vas), status: 'completed' as const, strayCharge: { amountFen: 1000, chargedAt: '2026-01-02T00:00:00.000Z' } };
    const done = run([say({ intent: 'still_charged' }), result.status([charged, { ...filedRequest(SUBS.musicMember), status: 'completed' }], 'charges')]);
    expect(lineKeys(done.last)).toEqual(['charges.chargedAfter', 'charges.completed']);
    expect(ofType(done.last, 'fileRefunds')).toEqual([{ type: 'fileRefunds', params: { tickets: [charged.ticket] } }]);
    expect(ofType(done.last, 'requestHuman')).toEqual([]);
    const told = run([{ type: 'refunds.filed', disputes: [{ ticket: 'TS1', serviceName: vas.name, claimedFen: 1000, dueAt: '2026-01-05T00:00:00.000Z' }] }], done.snapshot);
    expect(sayKeys(told.last)).toEqual(['refund.auto.header']);
    expect(lineKeys(told.last)).toEqual(['refund.auto.item', 'refund.auto.footer']);
    expect(told.snapshot.context.tickets).toContain('TS1');
    const failed = run([{ type: 'refunds.failed' }], done.snapshot);
    expect(ofType(failed.last, 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'stillCharged' } }]);
  });

  it('leaves refund claims out of the charge explanation', () => {
    const claim = { ...filedRequest(SUBS.videoRingback, 'TS1'), kind: 'dispute' as const, status: 'processing' as const };
    const r = run([say({ intent: 'still_charged' }), result.status([claim, { ...filedRequest(SUBS.musicMember), status: 'completed' }], 'charges')]);
    expect(lineKeys(r.last)).toEqual(['charges.completed']);
    expect(ofType(r.last, 'requestHuman')).toEqual([]);
  });
});

describe('refunds in status answers and receipts', () => {
  it('reports refund claims and a closed number\'s balance refund as their own steps', () => {
    const claim = { ...filedRequest(SUBS.videoRingback, 'TS1'), kind: 'dispute' as const, status: 'processing' as const, amountFen: 3000, dueAt: '2026-01-05T00:00:00.000Z' };
    const refund = { ...filedRequest(SUBS.numberLine, 'TK1'), kind: 'balanceRefund' as const, status: 'completed' as const, amountFen: 8800, refundChannel: 'original' as const };
    const closure = { ...filedRequest(SUBS.numberLine, 'TD1'), status: 'completed' as const, refundTicket: 'TK1' };
    const r = run([user.status(), result.status([refund, closure, claim])]);
    const lines = ofType(r.last, 'say')[0]!.params.lines!;
    expect(lines.map((l) => l.key)).toEqual(['status.balanceRefund.completed', 'status.item.completed', 'status.dispute.processing']);
    expect(lines[0]!.params).toMatchObject({ ticket: 'TK1', amountFen: 8800, channelKey: 'refund.channel.original' });
    expect(lines[2]!.params).toMatchObject({ ticket: 'TS1', amountFen: 3000, dueAt: '2026-01-05T00:00:00.000Z' });

    const receipts = run([say({ intent: 'receipt' }), result.status([refund, claim], 'receipt')]);
    expect(lineKeys(receipts.last)).toEqual(['receipt.balanceRefund.item', 'dispute.receipt']);
  });

  it('the receipt of a number closure names the balance refund ticket', () => {
    const r = run([...numberAtConfirmation(), user.closeNumber(), { type: 'backend.filed', requests: [{ ...filedRequest(SUBS.numberLine), refundTicket: 'TK1' }] }]);
    const receipt = ofType(r.last, 'say').find((e) => e.params.key === 'receipt.header')!;
    expect(receipt.params.lines!.find((l) => l.key === 'receipt.balanceRefund')!.params).toMatchObject({ ticket: 'TK1', amountFen: RICH_PROFILE.balanceFen });
  });
});

describe('lost phone', () => {
  it('gives advice, verifies without SMS, and suspends the line only after a yes', () => {
    const r = run([say({ intent: 'lost_phone' })]);
    expect(sayKeys(r.last)).toEqual(['lost.advice', 'identity.number.prompt']);
    const asked = run([say({ msisdn: MSISDN })], r.snapshot);
    expect(ofType(asked.last, 'sendCode')).toEqual([]);
    expect(sayKeys(asked.last)).toEqual(['lost.secret.prompt']);
    const verified = run([user.secret(), result.secretVerified()], asked.snapshot);
    expect(where(verified.snapshot)).toBe('session.awaitingSuspension');
    const declined = run([user.deny()], verified.snapshot);
    expect(ofType(declined.last, 'suspendLine')).toEqual([]);
    expect(sayKeys(declined.last)).toEqual(['lost.declined']);
    const yes = run([user.confirm()], verified.snapshot);
    expect(ofType(yes.last, 'suspendLine')).toEqual([{ type: 'suspendLine', params: { msisdn: MSISDN } }]);
    const done = run([{ type: 'line.suspended', ticket: 'GS20261124000001', suspendedAt: '2026-11-24T12:00:00.000Z' }], yes.snapshot);
    expect(where(done.snapshot)).toBe('session.offeringPasswordChange');
    expect(sayKeys(done.last)).toEqual(['lost.done', 'password.offer']);
    const later = run([say({ intent: 'deny' })], done.snapshot);
    expect(where(later.snapshot)).toBe('idle');
    expect(sayKeys(later.last)).toEqual(['password.later']);
  });

  it('says so and hands over to a human when the line cannot be suspended, and likewise when data cannot be deleted', () => {
    const suspending = run([say({ intent: 'lost_phone', msisdn: MSISDN }), user.secret(), result.secretVerified(), user.confirm()]);
    const deleting = run([say({ deleteData: true, msisdn: MSISDN }), result.codeSent(), user.code(), result.verified(), user.confirm()]);
    for (const [at, failure, key] of [[suspending, 'line.suspendFailed', 'lost.failed'], [deleting, 'data.deleteFailed', 'privacy.failed']] as const) {
      const failed = run([{ type: failure } as DialogEvent], at.snapshot);
      expect(where(failed.snapshot), failure).toBe('idle');
      expect(sayKeys(failed.last), failure).toEqual([key]);
      expect(ofType(failed.last, 'requestHuman'), failure).toEqual([{ type: 'requestHuman', params: { reason: 'backendFailed' } }]);
    }
  });

  it('after the suspension, changes the service password without asking for another check', () => {
    const suspended = run([
      say({ intent: 'lost_phone', msisdn: MSISDN }), user.secret(), result.secretVerified(), user.confirm(),
      { type: 'line.suspended', ticket: 'GS1', suspendedAt: '2026-11-24T12:00:00.000Z' },
    ]);
    const asked = run([say({ intent: 'other', changePassword: true })], suspended.snapshot);
    expect(where(asked.snapshot)).toBe('session.awaitingNewPassword');
    expect(sayKeys(asked.last)).toEqual(['password.prompt']);
    const changing = run([say({ code: '390571' })], asked.snapshot);
    expect(ofType(changing.last, 'changeServicePassword')).toEqual([{ type: 'changeServicePassword', params: { msisdn: MSISDN, newSecret: '390571' } }]);
    const done = run([{ type: 'password.changed', changedAt: '2026-11-24T12:01:00.000Z' }], changing.snapshot);
    expect(where(done.snapshot)).toBe('idle');
    expect(sayKeys(done.last)).toEqual(['password.done']);
    expect(JSON.stringify(done.snapshot.context)).not.toContain('390571');
  });
});

describe('service password change', () => {
  const atNewPassword = () => run([
    say({ intent: 'other', changePassword: true, msisdn: MSISDN }), result.codeSent(), user.code(), result.verified(), user.secret(), result.secretVerified(),
  ]);

  it('asks for an SMS code and then the old password or ID digits before the new password', () => {
    const start = run([say({ intent: 'other', changePassword: true })]);
    expect(sayKeys(start.last)).toEqual(['identity.number.prompt']);
    const coded = run([user.number(), result.codeSent(), user.code()], start.snapshot);
    expect(ofType(coded.last, 'checkCode')).toHaveLength(1);
    const verified = run([result.verified()], coded.snapshot);
    expect(where(verified.snapshot)).toBe('session.awaitingSecret');
    expect(sayKeys(verified.last)).toEqual(['password.secret.prompt']);
    expect(ofType(verified.last, 'changeServicePassword')).toEqual([]);
    const strong = run([user.secret(), result.secretVerified()], verified.snapshot);
    expect(where(strong.snapshot)).toBe('session.awaitingNewPassword');
  });

  it('refuses easy passwords politely without echoing them, and sends a good one once', () => {
    for (const weak of ['123456', '111111', '654321', '121212', '138001', '013800']) {
      const r = run([say({ code: weak })], atNewPassword().snapshot);
      expect(sayKeys(r.last)).toEqual(['password.weak']);
      expect(where(r.snapshot)).toBe('session.awaitingNewPassword');
      expect(JSON.stringify(r.last)).not.toContain(weak);
    }
    const good = run([say({ code: '390571' })], atNewPassword().snapshot);
    expect(where(good.snapshot)).toBe('session.changingPassword');
    expect(ofType(good.last, 'changeServicePassword')).toHaveLength(1);
  });

  it('asks again when the back end refuses, and hands over to a human when it fails', () => {
    const changing = run([say({ code: '390571' })], atNewPassword().snapshot);
    const refused = run([{ type: 'password.rejected' }], changing.snapshot);
    expect(where(refused.snapshot)).toBe('session.awaitingNewPassword');
    expect(sayKeys(refused.last)).toEqual(['password.rejected', 'password.prompt']);
    const failed = run([{ type: 'password.changeFailed' }], changing.snapshot);
    expect(where(failed.snapshot)).toBe('idle');
    expect(ofType(failed.last, 'requestHuman')).toEqual([{ type: 'requestHuman', params: { reason: 'backendFailed' } }]);
  });
});

describe('unwanted charges', () => {
  it('没订过怎么每个月扣我15块: the amount charged picks the subscription whose record is shown', () => {
    const r = run([say({ intent: 'unwanted_charge', msisdn: MSISDN, feeFen: SUBS.musicMember.monthlyFeeFen }), result.codeSent(), user.code(), result.verified(), result.loaded(DEMO_SUBSCRIPTIONS, PROFILE)]);
    expect(r.snapshot.context.candidates).toEqual([SUBS.musicMember]);
    // Its warning does not say this month's fee stays charged: the claim is about getting it back.
    expect(lineKeys(r.last)).toContain('dispute.next');
    expect(lineKeys(r.last)).not.toContain('warn.refund.no');
  });

  it('shows how the named service was ordered, then cancels it and files a refund claim in one confirmation', () => {
    const news = { ...SUBS.musicMember, since: '2025-01-08', channel: '短信' };
    const r = run([
      say({ intent: 'unwanted_charge', serviceIds: [news.serviceId], msisdn: MSISDN }), result.codeSent(), user.code(), result.verified(),
      result.loaded([news, SUBS.videoRingback, SUBS.numberLine]),
    ]);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(lineKeys(r.last).slice(0, 2)).toEqual(['dispute.record', 'dispute.next']);
    expect(sayKeys(r.last)).toContain('dispute.confirm');
    const filed = run([user.confirm()], r.snapshot);
    expect(ofType(filed.last, 'fileRequests')[0]!.params).toMatchObject({ subscriptionIds: [news.subscriptionId], dispute: true });
    const receipt = run([{ type: 'backend.filed', requests: [filedRequest(news)], disputes: [{ ticket: 'TS1', serviceName: news.name, claimedFen: 4500, dueAt: '2026-11-27T00:00:00.000Z' }] }], filed.snapshot);
    expect(lineKeys(receipt.last)).toContain('dispute.receipt');
    // Nor does the receipt say the fee stays charged next to the claim that asks for it back.
    expect(lineKeys(receipt.last)).not.toContain('receipt.fee.noRefund');
  });

  it('says before filing that the operator holds the consent to the order, so the claim may fail', () => {
    const confirmed = { ...SUBS.musicMember, since: '2025-08-15', channel: '短信', orderConfirmation: 'sms' as const };
    const r = run([
      say({ intent: 'unwanted_charge', serviceIds: [confirmed.serviceId], msisdn: MSISDN }), result.codeSent(), user.code(), result.verified(),
      result.loaded([confirmed, SUBS.videoRingback, SUBS.numberLine]),
    ]);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(lineKeys(r.last).slice(0, 3)).toEqual(['dispute.record', 'dispute.confirmedOrder.sms', 'dispute.next']);
    // Listed among the candidates, the record carries it too; a subscription without one does not.
    const listed = run([say({ intent: 'unwanted_charge', msisdn: MSISDN }), result.codeSent(), user.code(), result.verified(), result.loaded([confirmed, SUBS.videoRingback])]);
    expect(lineKeys(listed.last)).toEqual(['dispute.record', 'dispute.confirmedOrder.sms', 'dispute.record']);
  });

  it('lists the paid services with their order records when the charge is not named', () => {
    const r = run([say({ intent: 'unwanted_charge', msisdn: MSISDN }), result.codeSent(), user.code(), result.verified(), result.loaded()]);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    expect(sayKeys(r.last)).toEqual(['dispute.prompt']);
    expect(lineKeys(r.last).every((k) => k === 'dispute.record')).toBe(true);
  });
});

describe('only a plain yes confirms', () => {
  it('a number or a code classified as confirm at the confirmation files nothing', () => {
    const at = run([...verifiedRequest({ intent: 'unsubscribe', serviceIds: [SUBS.musicMember.serviceId] })]);
    expect(where(at.snapshot)).toBe('session.awaitingConfirmation');
    for (const answer of [say({ intent: 'confirm', msisdn: MSISDN }), say({ intent: 'confirm', code: CODE, idTail: CODE })]) {
      expect(ofType(run([answer], at.snapshot).last, 'fileRequests')).toEqual([]);
    }
    expect(ofType(run([say({ intent: 'confirm', negated: true })], at.snapshot).last, 'fileRequests')).toEqual([]);
  });
});

describe('questions before deciding', () => {
  it('answers 退订会不会扣钱 without counting it as a miss, and offers to start', () => {
    const r = run([say({ intent: 'fee_question' }), say({ intent: 'fee_question' })]);
    expect(sayKeys(r.last)).toEqual(['fee.answer']);
    expect(ofType(r.effects, 'requestHuman')).toEqual([]);
    expect(ofType(r.last, 'say')[0]!.params.choices).toEqual([{ key: 'choice.startUnsubscribe' }]);
  });

  it('before closing the number, 那我的支付宝呢 is answered with the accounts on record as tied to it (or that there are none), and the question stays open', () => {
    const at = run(numberAtConfirmation(RICH_PROFILE));
    expect(where(at.snapshot)).toBe('session.awaitingConfirmation');
    const asked = run([say({ intent: 'fee_question', aboutBoundAccounts: true })], at.snapshot);
    expect(where(asked.snapshot)).toBe('session.awaitingConfirmation');
    const [answer] = ofType(asked.last, 'say');
    expect(answer!.params).toMatchObject({ key: 'bound.listed', params: { accounts: RICH_PROFILE.boundAccounts.map((name) => ({ kind: 'account', name })) } });
    expect(answer!.params.lines).toEqual([at.snapshot.context.prompt]);
    const none = run([say({ intent: 'fee_question', aboutBoundAccounts: true })], run(numberAtConfirmation(PROFILE)).snapshot);
    expect(sayKeys(none.last)).toEqual(['bound.none']);
    // A lost phone stays a lost phone, whatever accounts it names.
    const lost = run([say({ intent: 'lost_phone', aboutBoundAccounts: true })], at.snapshot);
    expect(sayKeys(lost.last)).not.toContain('bound.listed');
    expect(ofType(run([user.closeNumber()], asked.snapshot).last, 'fileRequests')).toHaveLength(1);
  });

  it('at the confirmation, 违约金多少 is answered with the chosen services’ own figures, and the question stays open', () => {
    const at = run([...verifiedRequest({ target: 'plan' }), user.secret(), result.secretVerified()]);
    expect(where(at.snapshot)).toBe('session.awaitingConfirmation');
    const r = run([say({ intent: 'fee_question' }), say({ intent: 'fee_question' })], at.snapshot);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(ofType(r.effects, 'requestHuman')).toEqual([]);
    const [answer] = ofType(r.last, 'say');
    expect(answer!.params.key).toBe('fee.selected');
    const penalty = answer!.params.lines!.find((l) => l.key === 'warn.contract');
    expect(penalty?.params).toMatchObject({ penaltyFen: SUBS.plan.penaltyFen });
    expect(answer!.params.lines!.at(-1)).toEqual(at.snapshot.context.prompt);
    expect(ofType(run([user.confirm()], r.snapshot).last, 'fileRequests')).toHaveLength(1);
  });
});

describe('a generic word (流量包, 会员)', () => {
  const voice = { ...SUBS.data10g, subscriptionId: 'sub-104', serviceId: 'addon-voice-100', name: '100分钟语音包', monthlyFeeFen: 1000 };
  const booster = { ...SUBS.data10g, subscriptionId: 'sub-108', serviceId: 'addon-data-booster', name: '流量加油包', monthlyFeeFen: 1000 };

  it('goes straight to the one subscription it can mean, not every one of its kind', () => {
    const r = run(verifiedRequest({ target: 'addon', family: ['addon-data-10g', 'addon-night-data'] }, [...DEMO_SUBSCRIPTIONS, voice]));
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(r.snapshot.context.selected.map((s) => s.serviceId)).toEqual(['addon-data-10g']);
  });

  it('lists the whole kind when several or none of the user\'s subscriptions carry the word', () => {
    const night = { ...booster, subscriptionId: 'sub-109', serviceId: 'addon-night-data', name: '夜间流量包' };
    const several = run(verifiedRequest({ target: 'addon', family: ['addon-data-10g', 'addon-night-data'] }, [...DEMO_SUBSCRIPTIONS, booster, night]));
    expect(where(several.snapshot)).toBe('session.awaitingChoice');
    expect(several.snapshot.context.candidates.map((s) => s.serviceId)).toEqual(['addon-data-10g', 'addon-data-booster', 'addon-night-data']);
    const none = run(verifiedRequest({ target: 'addon', family: ['addon-night-data'] }, [...DEMO_SUBSCRIPTIONS, voice]));
    expect(none.snapshot.context.candidates.map((s) => s.serviceId)).toEqual(['addon-data-10g', 'addon-voice-100']);
  });

  it('beside a named service, adds the one subscription the word can mean, or lists them all to pick from when several', () => {
    const one = run(verifiedRequest({ target: 'vas', serviceIds: [RINGBACK], family: ['addon-data-10g', 'addon-night-data'] }, [...DEMO_SUBSCRIPTIONS, voice]));
    expect(where(one.snapshot)).toBe('session.awaitingConfirmation');
    expect(one.snapshot.context.selected.map((s) => s.serviceId)).toEqual([RINGBACK, 'addon-data-10g']);
    const night = { ...booster, subscriptionId: 'sub-109', serviceId: 'addon-night-data', name: '夜间流量包' };
    const several = run(verifiedRequest({ target: 'vas', serviceIds: [RINGBACK], family: ['addon-data-10g', 'addon-night-data'] }, [...DEMO_SUBSCRIPTIONS, night]));
    expect(where(several.snapshot)).toBe('session.awaitingChoice');
    expect(several.snapshot.context.candidates.map((s) => s.serviceId)).toEqual([RINGBACK, 'addon-data-10g', 'addon-night-data']);
  });
});

describe('correcting what the confirmation proposes', () => {
  it('takes 不对，是视频彩铃 as the new selection, warned about and confirmed afresh', () => {
    const at = run(verifiedRequest({ target: 'vas', serviceIds: [SUBS.musicMember.serviceId] }));
    expect(at.snapshot.context.selected.map((s) => s.serviceId)).toEqual([SUBS.musicMember.serviceId]);
    const r = run([say({ intent: 'deny', serviceIds: [SUBS.videoRingback.serviceId] })], at.snapshot);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(r.snapshot.context.selected.map((s) => s.serviceId)).toEqual([SUBS.videoRingback.serviceId]);
    expect(sayKeys(r.last)).toEqual(['warn.header', 'confirm.prompt']);
    expect(ofType(run([user.confirm()], r.snapshot).last, 'fileRequests')[0]!.params.subscriptionIds).toEqual([SUBS.videoRingback.subscriptionId]);
    // A service named as kept (视频彩铃先不退) is no new selection.
    expect(run([say({ intent: 'deny', negated: true, serviceIds: [SUBS.videoRingback.serviceId] })], at.snapshot).snapshot.context.selected.map((s) => s.serviceId)).not.toEqual([SUBS.videoRingback.serviceId]);
    // A plan named instead needs the second check first.
    expect(where(run([say({ intent: 'deny', serviceIds: [SUBS.plan.serviceId] })], at.snapshot).snapshot)).toBe('session.awaitingSecret');
  });

  it('answers 不是这个 with everything the user could cancel, to pick from, and files nothing', () => {
    const at = run(verifiedRequest({ target: 'vas', serviceIds: [SUBS.musicMember.serviceId] }));
    const r = run([say({ intent: 'deny', notThisOne: true })], at.snapshot);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    expect(r.snapshot.context.candidates.map((s) => s.serviceId)).toEqual(DEMO_SUBSCRIPTIONS.filter((s) => s.target !== 'number').map((s) => s.serviceId));
    expect(ofType(r.effects, 'fileRequests')).toEqual([]);
    // A plain 不对 still declines.
    expect(where(run([user.deny()], at.snapshot).snapshot)).toBe('idle');
  });
});

describe('none of the listed', () => {
  it('answers 都不是 at the list with where else the thing may be, keeps the list open and counts no miss', () => {
    const listed = run(verifiedRequest({}));
    expect(where(listed.snapshot)).toBe('session.awaitingChoice');
    const r = run([say({ intent: 'deny', noneOfThese: true })], listed.snapshot);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    expect(ofType(r.last, 'say')[0]!.params).toEqual({ key: 'choose.noneOfThese', choices: [{ key: 'choice.human' }] });
    expect(r.snapshot.context.misses).toBe(0);
    expect(where(run([user.pick(2)], r.snapshot).snapshot)).toBe('session.awaitingConfirmation');
  });
});

describe('out of scope', () => {
  it('says where to order instead of that nothing was understood, and asks the open question again without counting a miss', () => {
    const idle = run([say({ intent: 'other', ordersSomething: true })]);
    expect(sayKeys(idle.last)).toEqual(['scope.order']);
    expect(idle.snapshot.context.misses).toBe(0);
    const asked = run([user.unsubscribe('vas'), say({ intent: 'other', ordersSomething: true }), say({ intent: 'other', ordersSomething: true })]);
    expect(where(asked.snapshot)).toBe('session.askingNumber');
    expect(ofType(asked.effects, 'requestHuman')).toEqual([]);
    expect(ofType(asked.last, 'say')[0]!.params).toMatchObject({ key: 'scope.order', lines: [{ key: 'identity.number.prompt' }] });
  });
});

describe('asked whether it is a machine', () => {
  it('says so plainly with what it can do and a person one tap away, and mid-dialog asks the open question again', () => {
    const idle = run([say({ intent: 'other', aboutBot: true })]);
    expect(idle.last).toEqual([{ type: 'say', params: { key: 'bot.identity', lines: [{ key: 'help.idle' }], choices: [{ key: 'choice.human' }] } }]);
    expect(idle.snapshot.context.misses).toBe(0);
    const asked = run([user.unsubscribe('vas'), say({ intent: 'other', aboutBot: true })]);
    expect(where(asked.snapshot)).toBe('session.askingNumber');
    expect(ofType(asked.last, 'say')[0]!.params).toMatchObject({ key: 'bot.identityResume', lines: [{ key: 'identity.number.prompt' }] });
    expect(ofType(asked.effects, 'requestHuman')).toEqual([]);
  });
});

describe('the account\'s everyday business', () => {
  it('says where balance, top-ups and bills are handled, without counting a miss, and asks the open question again', () => {
    const idle = run([say({ intent: 'other', aboutAccount: true }), say({ intent: 'other', aboutAccount: true })]);
    expect(sayKeys(idle.last)).toEqual(['scope.account']);
    expect(ofType(idle.effects, 'requestHuman')).toEqual([]);
    const asked = run([user.unsubscribe('vas'), say({ intent: 'other', aboutAccount: true })]);
    expect(ofType(asked.last, 'say')[0]!.params).toMatchObject({ key: 'scope.account', lines: [{ key: 'identity.number.prompt' }] });
  });

  it('leaves a question the model reads as something else (a fee question about the balance) to that reading', () => {
    const r = run([say({ intent: 'fee_question', aboutAccount: true })]);
    expect(sayKeys(r.last)).not.toContain('scope.account');
  });
});

describe('the order record asked about', () => {
  const subs = [{ ...SUBS.videoRingback, since: '2024-03-15', channel: '短信', orderConfirmation: 'sms' as const }, { ...SUBS.musicMember, since: '2025-01-08', channel: 'APP' }];

  it('answers 这个是什么时候开通的 at the confirmation from the record of what is proposed, and asks again', () => {
    const at = run(verifiedRequest({ target: 'vas', serviceIds: [RINGBACK] }, subs));
    expect(where(at.snapshot)).toBe('session.awaitingConfirmation');
    const r = run([say({ intent: 'unwanted_charge', asksOrderRecord: true })], at.snapshot);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(ofType(r.last, 'say')[0]!.params).toMatchObject({
      key: 'order.record',
      lines: [
        { key: 'order.record.item', params: { since: '2024-03-15' } },
        { key: 'order.record.confirmed.sms' },
        { key: 'order.record.notMine' },
        { key: 'confirm.prompt' },
      ],
    });
    expect(ofType(r.last, 'fileRequests')).toEqual([]);
  });

  it('answers for the service named at the list, or for all listed', () => {
    const at = run(verifiedRequest({ target: 'vas' }, subs));
    expect(where(at.snapshot)).toBe('session.awaitingChoice');
    const named = run([say({ intent: 'unwanted_charge', asksOrderRecord: true, serviceIds: [SUBS.musicMember.serviceId] })], at.snapshot);
    expect((ofType(named.last, 'say')[0]!.params as { lines: { key: string }[] }).lines.filter((l) => l.key === 'order.record.item')).toHaveLength(1);
    const all = run([say({ intent: 'unwanted_charge', asksOrderRecord: true })], at.snapshot);
    expect((ofType(all.last, 'say')[0]!.params as { lines: { key: string }[] }).lines.filter((l) => l.key === 'order.record.item')).toHaveLength(2);
    expect(where(all.snapshot)).toBe('session.awaitingChoice');
  });

  it('turns 没订过 said of what is proposed into a claim about those services', () => {
    // 我不知道, read as a charge not understood, claims nothing about them.
    const unsure = run([...verifiedRequest({ target: 'vas', serviceIds: [RINGBACK] }, subs), say({ intent: 'unwanted_charge' })]);
    expect(sayKeys(unsure.last)).not.toContain('switch.toDispute');
    const switched = run([...verifiedRequest({ target: 'vas', serviceIds: [RINGBACK] }, subs), say({ intent: 'unwanted_charge', claimsNeverOrdered: true })]);
    expect(sayKeys(switched.last)).toEqual(['switch.toDispute']);
    expect(switched.snapshot.context.purpose).toBe('unwantedCharge');
    const r = run([result.loaded(subs)], switched.snapshot);
    expect(r.snapshot.context.selected.map((s) => s.serviceId)).toEqual([RINGBACK]);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
  });
});

describe('taking back what the confirmation proposes', () => {
  it('ends the dialog, filing nothing, on an undo that names the proposed service or when nothing was filed', () => {
    for (const words of [say({ intent: 'undo', negated: true, target: 'vas', serviceIds: [RINGBACK] }), say({ intent: 'undo' })]) {
      const r = run([...ringbackAtConfirmation(), words]);
      expect(where(r.snapshot), JSON.stringify(words)).toBe('idle');
      expect(sayKeys(r.last)).toEqual(['confirm.declined']);
      expect(ofType(r.effects, 'fileRequests')).toEqual([]);
    }
  });

  it('drops only the services taken back when others stay proposed, warns about the rest and asks again', () => {
    const two = verifiedRequest({ target: 'vas', serviceIds: [RINGBACK, SUBS.musicMember.serviceId] });
    expect(where(run(two).snapshot)).toBe('session.awaitingConfirmation');
    for (const words of [say({ intent: 'cancel', negated: true, serviceIds: [SUBS.musicMember.serviceId] }), say({ intent: 'cancel', serviceIds: [SUBS.musicMember.serviceId] })]) {
      const r = run([...two, words]);
      expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
      expect(r.snapshot.context.selected.map((s) => s.serviceId)).toEqual([RINGBACK]);
      expect(ofType(r.last, 'say')[0]!.params).toMatchObject({ key: 'confirm.dropped', params: { names: [{ id: SUBS.musicMember.serviceId, name: SUBS.musicMember.name }] } });
      expect(sayKeys(r.last)).toEqual(['confirm.dropped', 'warn.header', 'confirm.prompt']);
      const filed = run([user.confirm()], r.snapshot);
      expect(ofType(filed.effects, 'fileRequests').map((e) => (e.params as { subscriptionIds: string[] }).subscriptionIds)).toEqual([[SUBS.videoRingback.subscriptionId]]);
    }
  });

  it('ends the dialog when every proposed service is taken back', () => {
    const r = run([...ringbackAtConfirmation(), say({ intent: 'cancel', negated: true, serviceIds: [RINGBACK] })]);
    expect(where(r.snapshot)).toBe('idle');
    expect(sayKeys(r.last)).toEqual(['confirm.declined']);
  });

  it('leaves an undo that names another service to the undo handling', () => {
    const r = run([...ringbackAtConfirmation(), say({ intent: 'undo', serviceIds: [SUBS.musicMember.serviceId] })]);
    expect(sayKeys(r.last)).not.toContain('confirm.declined');
  });
});

describe('closing the number asked beside another request', () => {
  it('says the closure is a dialog of its own, to be asked for after this one, and starts this one', () => {
    const r = run([user.unsubscribe('broadband', { alsoClosesNumber: true })]);
    expect(where(r.snapshot)).toBe('session.askingNumber');
    expect(sayKeys(r.last)).toEqual(['request.numberLater', 'identity.number.prompt']);
    expect(r.snapshot.context.target).toBe('broadband');
  });
});

describe('advertising texts', () => {
  it('says how promotional texts are stopped rather than starting a cancellation, and asks the open question again mid-dialog', () => {
    const idle = run([say({ intent: 'receipt', aboutMarketingSms: true })]);
    expect(where(idle.snapshot)).toBe('idle');
    expect(sayKeys(idle.last)).toEqual(['scope.marketingSms']);
    const asked = run([user.unsubscribe('vas'), say({ intent: 'unsubscribe', aboutMarketingSms: true })]);
    expect(where(asked.snapshot)).toBe('session.askingNumber');
    expect(ofType(asked.last, 'say')[0]!.params).toMatchObject({ key: 'scope.marketingSms', lines: [{ key: 'identity.number.prompt' }] });
  });

  it('leaves a message that also names a service to the request', () => {
    const r = run([say({ intent: 'unsubscribe', target: 'vas', serviceIds: [RINGBACK], aboutMarketingSms: true })]);
    expect(where(r.snapshot)).toBe('session.askingNumber');
    expect(sayKeys(r.last)).not.toContain('scope.marketingSms');
  });
});

describe('digits that fit no question', () => {
  it('says the range at the list for 0 or 99, and what a mobile number looks like when asked for one', () => {
    const listed = run(verifiedRequest({ target: 'vas' }));
    expect(where(listed.snapshot)).toBe('session.awaitingChoice');
    const pick = run([say({ strayDigits: 2 })], listed.snapshot);
    expect(where(pick.snapshot)).toBe('session.awaitingChoice');
    expect(sayKeys(pick.last)).toEqual(['choose.invalid']);
    const asked = run([user.unsubscribe('vas'), say({ strayDigits: 3 })]);
    expect(where(asked.snapshot)).toBe('session.askingNumber');
    expect(sayKeys(asked.last)).toEqual(['identity.number.invalid']);
  });
});

describe('the hotline asked for', () => {
  it('gives the hotlines with a person one tap away, and in a dialog asks the open question again', () => {
    const idle = run([say({ intent: 'other', asksHotline: true })]);
    expect(where(idle.snapshot)).toBe('idle');
    expect(ofType(idle.last, 'say')[0]!.params).toMatchObject({ key: 'scope.hotline', choices: [{ key: 'choice.human' }] });
    const asked = run([user.unsubscribe('vas'), say({ intent: 'other', asksHotline: true })]);
    expect(where(asked.snapshot)).toBe('session.askingNumber');
    expect(ofType(asked.last, 'say')[0]!.params).toMatchObject({ key: 'scope.hotline', lines: [{ key: 'identity.number.prompt' }] });
    expect(asked.snapshot.context.misses).toBe(0);
  });
});

describe('keeping the number (停机保号)', () => {
  const keep = (intent: Utterance['intent'] = 'unsubscribe') => say({ intent, target: 'number', serviceIds: ['number-line'], keepsNumber: true });

  it('says how keeping the number differs from closing it and where it is done, instead of starting a closure', () => {
    for (const intent of ['unsubscribe', 'cancel', 'undo'] as const) {
      const r = run([keep(intent)]);
      expect(where(r.snapshot), intent).toBe('idle');
      expect(ofType(r.last, 'say')[0]!.params, intent).toMatchObject({
        key: 'scope.keepNumber', lines: [{ key: 'scope.keepNumber.close' }], choices: [{ key: 'choice.reviewServices' }, { key: 'choice.closeInstead' }],
      });
      expect(ofType(r.effects, 'sendCode')).toEqual([]);
    }
  });

  it('asks the open question again when said in the middle of a dialog', () => {
    const r = run([user.unsubscribe('number'), keep()]);
    expect(where(r.snapshot)).toBe('session.askingNumber');
    expect(ofType(r.last, 'say')[0]!.params).toMatchObject({ key: 'scope.keepNumber', lines: [{ key: 'identity.number.prompt' }] });
  });

  it('leaves a lost phone or a progress question to their own handling', () => {
    expect(sayKeys(run([keep('lost_phone')]).last)).not.toContain('scope.keepNumber');
    expect(sayKeys(run([keep('query_status')]).last)).not.toContain('scope.keepNumber');
  });
});

describe('unclear requests', () => {
  it('asks 您是想退订业务吗 when the NLU is unsure, and starts only on a yes', () => {
    const asked = run([say({ intent: 'unsubscribe', confidence: 0.45, target: 'vas' })]);
    expect(where(asked.snapshot)).toBe('clarifying');
    expect(sayKeys(asked.last)).toEqual(['clarify.unsubscribe']);
    const yes = run([user.confirm()], asked.snapshot);
    expect(where(yes.snapshot)).toBe('session.askingNumber');
    expect(yes.snapshot.context.target).toBe('vas');
    const no = run([user.deny()], asked.snapshot);
    expect(where(no.snapshot)).toBe('idle');
    expect(sayKeys(no.last)).toEqual(['help.idle']);
  });

  it('takes a phone number given instead of a yes as going ahead, and sends the code to it', () => {
    const asked = run([say({ intent: 'unsubscribe', confidence: 0.45, target: 'vas' })]);
    const r = run([user.number()], asked.snapshot);
    expect(where(r.snapshot)).toBe('session.sendingCode');
    expect(ofType(r.last, 'sendCode')).toEqual([{ type: 'sendCode', params: { msisdn: MSISDN } }]);
    expect(r.snapshot.context.target).toBe('vas');
    expect(ofType(r.effects, 'requestHuman')).toEqual([]);
  });

  it('starts at once when the NLU is confident', () => {
    expect(where(run([say({ intent: 'unsubscribe', confidence: 0.9, target: 'vas' })]).snapshot)).toBe('session.askingNumber');
  });
});

describe('interruptions in every waiting state', () => {
  /** Every state that waits for the user's answer, how to get there, and the dialog it belongs to. */
  const waiting: [string, DialogEvent[]][] = [
    ['askingNumber', [user.unsubscribe('vas')]],
    ['awaitingCode', [user.unsubscribe('vas', { msisdn: MSISDN }), result.codeSent()]],
    ['awaitingChoice', verifiedRequest()],
    ['awaitingSecret', verifiedRequest({ target: 'plan' })],
    ['awaitingConfirmation', ringbackAtConfirmation()],
    ['awaitingDeletion', [say({ deleteData: true, msisdn: MSISDN }), result.codeSent(), user.code(), result.verified()]],
    ['awaitingSuspension', [say({ intent: 'lost_phone', msisdn: MSISDN }), user.secret(), result.secretVerified()]],
    ['awaitingNewPassword', [say({ intent: 'lost_phone', msisdn: MSISDN }), user.secret(), result.secretVerified(), user.confirm(), { type: 'line.suspended', ticket: 'TD-S', suspendedAt: '2026-11-24T10:00:00Z' }, user.confirm()]],
  ];
  const deletion = say({ intent: 'lost_phone', deleteData: true });

  it.each(waiting)('at %s, 删除我的个人信息 starts the deletion (the other dialog is dropped, and the user told so)', (state, events) => {
    const at = run(events);
    expect(where(at.snapshot)).toBe(`session.${state}`);
    const r = run([deletion], at.snapshot);
    expect(ofType(r.last, 'requestHuman')).toEqual([]);
    expect(r.snapshot.context.purpose).toBe('deleteData');
    if (state === 'awaitingDeletion') {
      expect(sayKeys(r.last)).toEqual(['dialog.resume']);
      return;
    }
    expect(sayKeys(r.last)[0]).toBe(`switch.from.${at.snapshot.context.purpose}`);
    expect(ofType(r.effects, 'fileRequests')).toEqual([]);
    // A verified owner goes straight to the deletion's confirmation; anyone else verifies the number they already gave.
    if (at.snapshot.context.verified) expect(where(r.snapshot)).toBe('session.awaitingDeletion');
    else if (at.snapshot.context.msisdn) expect(r.last).toContainEqual({ type: 'sendCode', params: { msisdn: MSISDN } });
    else expect(where(r.snapshot)).toBe('session.askingNumber');
  });

  it('a choice list never reads 手机丢了 as picking 手机报', () => {
    const news = { ...SUBS.videoRingback, subscriptionId: 'sub-110', serviceId: 'vas-mobile-news', name: '手机报' };
    const at = run(verifiedRequest({}, [SUBS.videoRingback, news])).snapshot;
    const r = run([say({ intent: 'lost_phone', target: 'vas', serviceIds: ['vas-mobile-news'] })], at);
    expect(r.snapshot.context.selected).toEqual([]);
    expect(r.snapshot.context.purpose).toBe('lostPhone');
    expect(sayKeys(r.last)).toEqual(['switch.from.unsubscribe', 'lost.advice', 'lost.secret.prompt']);
  });

  it.each(waiting)('at %s, a progress question is answered and the pending question asked again', (state, events) => {
    const at = run(events).snapshot;
    const asked = run([user.status()], at);
    expect(ofType(asked.last, 'loadStatus')).toHaveLength(1);
    const shown = run([result.status([])], asked.snapshot);
    expect(where(shown.snapshot)).toBe(`session.${state}`);
    expect(sayKeys(shown.last)).toEqual(['status.none', 'dialog.resume']);
    expect(ofType(shown.last, 'say')[1]!.params.lines).toEqual(promptMessages(at.context));
    expect(ofType(shown.last, 'say')[1]!.params.lines![0]).toEqual(at.context.prompt);
  });

  it.each(waiting)('at %s, a greeting is answered with the pending question, and is not a misunderstanding', (state, events) => {
    const at = run(events).snapshot;
    const r = run([say({ intent: 'greeting' }), say({ intent: 'greeting' }), say({ intent: 'greeting' })], at);
    expect(where(r.snapshot)).toBe(`session.${state}`);
    expect(ofType(r.effects, 'requestHuman')).toEqual([]);
    expect(ofType(r.last, 'say')[0]!.params).toMatchObject({ key: 'greeting.resume', lines: promptMessages(at.context) });
  });

  it('asking for the same thing again carries on rather than counting as not understood', () => {
    const at = run(verifiedRequest()).snapshot;
    const r = run([user.unsubscribe(), user.unsubscribe()], at);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    expect(sayKeys(r.effects)).toEqual(['dialog.resume', 'dialog.resume']);
    expect(ofType(r.effects, 'requestHuman')).toEqual([]);
  });

  it('都退 (a cancellation that picks from the list) is still a pick', () => {
    const at = run(verifiedRequest({ target: 'addon' }, [SUBS.videoRingback, SUBS.data10g, { ...SUBS.data10g, subscriptionId: 'sub-104', serviceId: 'addon-voice-100' }])).snapshot;
    expect(where(at)).toBe('session.awaitingChoice');
    const r = run([say({ intent: 'unsubscribe', choice: { kind: 'all' } })], at);
    expect(where(r.snapshot)).toBe('session.awaitingConfirmation');
    expect(r.snapshot.context.selected).toHaveLength(2);
  });

  it('a request to cancel something ends a deletion dialog, saying the data stays', () => {
    const at = run(waiting[5]![1]).snapshot;
    const r = run([user.unsubscribe('addon')], at);
    expect(sayKeys(r.last)[0]).toBe('switch.from.deleteData');
    expect(where(r.snapshot)).toBe('session.loadingSubscriptions');
    expect(r.snapshot.context).toMatchObject({ purpose: 'unsubscribe', target: 'addon', verified: true });
  });

  it('an unsure reading of a message never ends the dialog in progress', () => {
    const at = run(waiting[5]![1]).snapshot;
    const r = run([say({ intent: 'unsubscribe', confidence: 0.4 })], at);
    expect(where(r.snapshot)).toBe('session.awaitingDeletion');
  });

  it('验证码没收到 sends another code to the same number; too soon, the code already sent still counts', () => {
    const at = run(waiting[1]![1]).snapshot;
    const r = run([say({ intent: 'help', asksNewCode: true })], at);
    expect(where(r.snapshot)).toBe('session.resendingCode');
    expect(r.last).toEqual([{ type: 'sendCode', params: { msisdn: MSISDN } }]);
    expect(sayKeys(run([result.codeSent()], r.snapshot).last)).toEqual(['identity.code.resent']);

    const soon = run([result.sendFailed('rateLimited')], r.snapshot);
    expect(where(soon.snapshot)).toBe('session.awaitingCode');
    expect(sayKeys(soon.last)).toEqual(['identity.code.wait']);
    expect(soon.snapshot.context.msisdn).toBe(MSISDN);
  });

  it('the same number typed again while a code is awaited resends without asking for the number again', () => {
    const at = run(waiting[1]![1]).snapshot;
    const r = run([user.number(MSISDN), result.sendFailed('rateLimited')], at);
    expect(where(r.snapshot)).toBe('session.awaitingCode');
    expect(sayKeys(r.last)).toEqual(['identity.code.wait']);
  });

  it('another number after verification says which number the dialog is about', () => {
    const at = run(verifiedRequest()).snapshot;
    const r = run([user.number(OTHER_MSISDN), user.number(OTHER_MSISDN)], at);
    expect(where(r.snapshot)).toBe('session.awaitingChoice');
    expect(ofType(r.last, 'say')[0]!.params).toMatchObject({ key: 'identity.number.other', params: { msisdn: MSISDN } });
    expect(ofType(r.effects, 'requestHuman')).toEqual([]);
    expect(r.snapshot.context.msisdn).toBe(MSISDN);
  });

  it('repeats the suspension question with the number in it', () => {
    const at = run(waiting[6]![1]).snapshot;
    const r = run([user.help()], at);
    expect(ofType(r.last, 'say')[0]!.params.lines).toEqual([{ key: 'lost.confirm', params: { msisdn: MSISDN } }]);
  });
});

describe('after filing', () => {
  it('a plain yes after the receipt is acknowledged, not answered with "nothing pending"', () => {
    const done = run([...ringbackAtConfirmation(), user.confirm(), result.filed(SUBS.videoRingback)]).snapshot;
    const r = run([user.confirm()], done);
    expect(sayKeys(r.last)).toEqual(['idle.acknowledged']);
    expect(sayKeys(run([user.confirm()]).last)).toEqual(['idle.nothingPending']);
  });
});
