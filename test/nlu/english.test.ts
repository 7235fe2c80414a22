import { describe, expect, it } from 'vitest';
import { productionNlu } from './nlu-fixture.js';

/**
 * Users who write English (the bot replies in English too): the glossary reads the domain's words
 * as the Chinese the model was trained on. These are the requests and answers the English replies
 * ask for, in several phrasings each.
 */
const nlu = productionNlu();

describe('English requests', () => {
  it.each([
    ['I want to cancel my video ringback', 'vas', 'vas-video-ringback'],
    ['please unsubscribe me from the music membership', 'vas', 'vas-music-member'],
    ['Cancel my data pack', 'addon', null],
    ['get rid of my broadband', 'broadband', null],
    ['I would like to close my number', 'number', 'number-line'],
  ])('reads %s as a cancellation of %s', (text, target, serviceId) => {
    const r = nlu.parse(text);
    expect(r.intent).toBe('unsubscribe');
    expect(r.target).toBe(target);
    if (serviceId) expect(r.serviceIds).toContain(serviceId);
  });

  it.each([
    ['is it done?', 'query_status'],
    ["what's the status of my cancellation", 'query_status'],
    ['I want to talk to a person', 'human_agent'],
    ['human agent please', 'human_agent'],
    ['how much is the early termination fee', 'fee_question'],
    ['I never ordered this, why am I charged', 'unwanted_charge'],
    ['I lost my phone', 'lost_phone'],
    ['undo', 'undo'],
  ])('reads %s as %s', (text, intent) => {
    expect(nlu.parse(text).intent).toBe(intent);
  });
});

describe('English answers', () => {
  it.each(['yes', 'confirm', 'OK, go ahead', 'yeah', 'yep'])('reads %s as a yes', (text) => {
    const r = nlu.parse(text);
    expect(r.intent).toBe('confirm');
    expect(r.negated).toBe(false);
  });

  it.each(['keep it', 'no', 'never mind', 'nope', 'nah'])('reads %s as a no', (text) => {
    expect(['cancel', 'deny']).toContain(nlu.parse(text).intent);
  });

  it('reads the dialog\'s side questions as the Chinese ones: another number, a forgotten password, when it was ordered, a moment to think', () => {
    expect(nlu.parse('can I use another number').asksOtherNumber).toBe(true);
    expect(nlu.parse('I forgot my password').forgotSecret).toBe(true);
    expect(nlu.parse('when did I order this').asksOrderRecord).toBe(true);
    expect(nlu.parse('I want to suspend my number for a few months').keepsNumber).toBe(true);
    for (const text of ['wait a sec', 'hold on', 'let me think about it']) expect(nlu.parse(text).normalized, text).toMatch(/^(稍等|等一下|我再想想)$/);
  });

  it('reads a question about the accounts linked to the number as a question about the consequences, and a lost phone as one', () => {
    for (const text of ['what about my alipay', 'what happens to my WeChat Pay', 'my bank card is linked to this number, what about it']) {
      expect(nlu.parse(text).intent, text).toBe('fee_question');
    }
    expect(nlu.parse('I lost my phone, what about my alipay').intent).toBe('lost_phone');
  });

  it('reads the closure phrase the English replies ask for as the Chinese one', () => {
    expect(nlu.parse('confirm closure').normalized).toBe(nlu.parse('确认销号').normalized);
  });

  it.each([
    ['the first one', { kind: 'indexes', indexes: [1] }],
    ['1 and 3', { kind: 'indexes', indexes: [1, 3] }],
    ['all of them', { kind: 'all' }],
    ['the first two', { kind: 'first', count: 2 }],
    ['the last one', { kind: 'last', count: 1 }],
    ['all except the first one', { kind: 'allExcept', indexes: [1], serviceIds: [], targets: [] }],
  ])('reads %s as a pick from the list', (text, choice) => {
    expect(nlu.parse(text).choice).toEqual(choice);
  });

  it.each(['can I get a new SIM card', 'what is the weather like'])('reads %s, English it does not know, as not understood rather than guess', (text) => {
    const r = nlu.parse(text);
    expect(r.intent).toBe('other');
    expect(r.confidence).toBeLessThanOrEqual(0.5);
  });

  it('leaves English words outside the glossary, and Chinese, as they were', () => {
    expect(nlu.parse('退订视频彩铃').normalized).toBe('退订视频彩铃');
    expect(nlu.parse('my wifi router is broken').normalized).toContain('wifi router');
    expect(nlu.parse('5g加速包').normalized).toBe('5g加速包');
  });
});
