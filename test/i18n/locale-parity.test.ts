import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHandoffPhrases } from '../../src/handoff/phrases.js';
import { DEFAULT_LOCALE, I18n } from '../../src/i18n/i18n.js';
import type { Nlu } from '../../src/nlu/index.js';
import { LOCALES_DIR, PROJECT_ROOT } from '../../src/paths.js';
import { productionNlu } from '../nlu/nlu-fixture.js';

type Table = Record<string, unknown>;

const read = (locale: string): Table => JSON.parse(readFileSync(join(LOCALES_DIR, `${locale}.json`), 'utf8')) as Table;
const source = read(DEFAULT_LOCALE);
const others = readdirSync(LOCALES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter((l) => l !== DEFAULT_LOCALE);

const PLACEHOLDER = /\{(\w+)(?:\|(\w+))?\}/g;
const placeholders = (s: string) => [...new Set([...s.matchAll(PLACEHOLDER)].map((m) => m[0]))].sort();
const withoutPlaceholders = (s: string) => s.replace(PLACEHOLDER, '');

// Characters that only Simplified Chinese writes this way (Traditional: 務 簡 驗 證 話 號 費 訂 銷 發 …).
const SIMPLIFIED_ONLY = [...'务简验证话号费订销发这们后时经过还请网应会设账户码么为与对个钟联认确办进单说问帮绑机关开没续统线'];

describe('locale files', () => {
  it('include the translations the bot is expected to speak', () => {
    expect(others).toEqual(expect.arrayContaining(['zh-TW', 'en-US']));
  });

  describe.each(others)('%s', (locale) => {
    const table = read(locale);

    it('has exactly the keys of zh-CN', () => {
      expect(Object.keys(table).sort()).toEqual(Object.keys(source).sort());
    });

    it('has a non-empty string for every key', () => {
      const bad = Object.entries(table).filter(([, v]) => typeof v !== 'string' || v.trim().length === 0).map(([k]) => k);
      expect(bad).toEqual([]);
    });

    it('uses the same placeholders and filters as zh-CN in every string', () => {
      const differing = Object.keys(source)
        .filter((k) => typeof table[k] === 'string')
        .filter((k) => placeholders(table[k] as string).join() !== placeholders(source[k] as string).join())
        .map((k) => ({ key: k, expected: placeholders(source[k] as string), actual: placeholders(table[k] as string) }));
      expect(differing).toEqual([]);
    });
  });

  it('has every {{key}} of the web chat and agent pages, which the server fills in', () => {
    const pages = ['src/channels/webchat/assets/index.html', 'src/channels/agent-console/agent.html'];
    const keys = pages.flatMap((p) => [...readFileSync(join(PROJECT_ROOT, p), 'utf8').matchAll(/\{\{([\w.]+)\}\}/g)].map((m) => m[1]!));
    expect(keys).toContain('webchat.page.title');
    expect(keys.filter((k) => k !== 'locale' && typeof source[k] !== 'string')).toEqual([]);
  });

  it('writes zh-TW in Traditional characters', () => {
    const table = read('zh-TW');
    const simplified = Object.entries(table)
      .map(([key, value]) => ({ key, chars: [...withoutPlaceholders(String(value))].filter((c) => SIMPLIFIED_ONLY.includes(c)).join('') }))
      .filter((e) => e.chars.length > 0);
    expect(simplified).toEqual([]);
  });

  it('writes en-US copy in English, quoting Chinese only as something to type', () => {
    const table = read('en-US');
    const untranslated = Object.entries(table)
      .filter(([key]) => !key.endsWith('.value') && key !== 'confirm.number.phrase')
      .filter(([, value]) => {
        const text = withoutPlaceholders(String(value));
        return /[\u4e00-\u9fff]/.test(text) && !/[A-Za-z]{2}/.test(text);
      })
      .map(([key]) => key);
    expect(untranslated).toEqual([]);
  });
});

describe('what buttons send in every locale', () => {
  const i18n = new I18n();
  const phrases = loadHandoffPhrases();
  const valueKeys = Object.keys(source).filter((k) => k.endsWith('.value') && k !== 'choice.item.value');
  let nlu: Nlu;

  beforeAll(() => {
    nlu = productionNlu();
  }, 60_000);

  const meaning = (text: string) => {
    const r = nlu.parse(text);
    return { intent: r.intent, negated: r.negated, choice: r.choice?.kind ?? null, leavesAgent: phrases.leaves(r.normalized) };
  };

  it.each(others)('%s: every button value means to the Chinese NLU what the zh-CN one means', (locale) => {
    expect(valueKeys.length).toBeGreaterThan(5);
    for (const key of valueKeys) {
      expect(i18n.has(key, locale), key).toBe(true);
      expect(meaning(i18n.t(key, {}, locale)), `${locale} ${key}`).toEqual(meaning(i18n.t(key, {}, DEFAULT_LOCALE)));
    }
    expect(i18n.t('choice.item.value', { n: 3 }, locale)).toBe('3');
  });

  it.each(others)('%s: the close-number button sends the phrase the runtime asks for', (locale) => {
    const compact = (s: string) => s.replace(/[\s，。！,.!“”"']/g, '');
    // As the runtime compares them: both read by the NLU (confirm closure is read as 确认销号).
    const read = (s: string) => compact(nlu.parse(s).normalized);
    expect(read(i18n.t('choice.closeNumber.value', {}, locale))).toContain(read(i18n.t('confirm.number.phrase', {}, locale)));
    expect(nlu.parse(i18n.t('confirm.number.phrase', {}, locale)).normalized).toBe(i18n.t('confirm.number.phrase', {}, DEFAULT_LOCALE));
  });
});
