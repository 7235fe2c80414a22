import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as OpenCC from 'opencc-js/cn2t';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalogue, translatedLocales } from '../../src/domain/catalogue.js';
import { loadDataNames, type NameRef } from '../../src/i18n/data-names.js';
import { I18n } from '../../src/i18n/i18n.js';
import { DATA_ASSETS_DIR, LOCALES_DIR } from '../../src/paths.js';
import { tempDataDir } from '../support/app.js';

const CATALOGUE = join(DATA_ASSETS_DIR, 'catalogue.json');
const locales = translatedLocales();
const catalogue = loadCatalogue(CATALOGUE, locales);
const i18n = new I18n(LOCALES_DIR, loadDataNames(catalogue, locales));
const service = (id: string, name: string): NameRef => ({ kind: 'service', id, name });
const toTraditional = OpenCC.Converter({ from: 'cn', to: 'tw' });

describe('the service name table', () => {
  it('covers the locales the bot speaks', () => {
    expect(locales).toEqual(['en-US', 'zh-TW']);
  });

  it('names every catalogue service in every reply locale, and no two services alike', () => {
    for (const locale of locales) {
      const names = catalogue.services.map((s) => s.names[locale]);
      expect(names.every((n) => typeof n === 'string' && n.trim().length > 0), locale).toBe(true);
      expect(new Set(names).size, locale).toBe(names.length);
    }
  });

  it('writes zh-TW names in Traditional script and en-US names without Chinese', () => {
    for (const s of catalogue.services) {
      expect(toTraditional(s.names['zh-TW']!), s.id).toBe(s.names['zh-TW']);
      expect(s.names['en-US'], s.id).not.toMatch(/[\u3000-\u9fff\uff00-\uffef]/);
    }
  });

  describe('validation at load', () => {
    let data: ReturnType<typeof tempDataDir>;
    beforeEach(() => { data = tempDataDir(); });
    afterEach(() => data.cleanup());

    const withServices = (edit: (s: Record<string, unknown>) => void) => {
      const raw = JSON.parse(JSON.stringify({ services: catalogue.services, requestTypes: catalogue.requestTypes })) as { services: Record<string, unknown>[] };
      edit(raw.services[1]!);
      const file = join(data.dir, 'catalogue.json');
      writeFileSync(file, JSON.stringify(raw));
      return file;
    };

    it('rejects a catalogue with a service missing a locale, naming the service and the locale', () => {
      const file = withServices((s) => { s.names = { 'zh-TW': '彩鈴' }; });
      expect(() => loadCatalogue(file, locales)).toThrow(/vas-ringback has no name for en-US/);
    });

    it('rejects a name for a locale the bot does not speak, and an empty name', () => {
      expect(() => loadCatalogue(withServices((s) => { (s.names as Record<string, string>)['ja-JP'] = 'リングバック'; }), locales)).toThrow(/unknown locales ja-JP/);
      expect(() => loadCatalogue(withServices((s) => { (s.names as Record<string, string>)['en-US'] = ' '; }), locales)).toThrow(/invalid/);
    });

    it('rejects an account or channel without every locale', () => {
      const file = join(data.dir, 'display-names.json');
      writeFileSync(file, JSON.stringify({ accountTail: '\\((\\d+)\\)$', accounts: { 支付宝: { 'zh-TW': '支付寶' } }, channels: {} }));
      expect(() => loadDataNames(catalogue, locales, file)).toThrow(/accounts\.支付宝 has no name for en-US/);
    });
  });
});

describe('names from data in replies', () => {
  it('shows a service by catalogue id in the reply locale, and the back end\'s own name in zh-CN', () => {
    const ref = service('addon-data-10g', '10GB流量包');
    expect(i18n.t('choose.item', { n: 1, name: ref, feeFen: 3000 }, 'en-US')).toBe('1. 10 GB data add-on (¥30/month)');
    expect(i18n.t('choose.item', { n: 1, name: ref, feeFen: 3000 }, 'zh-TW')).toBe('1. 10GB流量包（人民幣30元/月）');
    expect(i18n.t('choose.item', { n: 1, name: ref, feeFen: 3000 }, 'zh-CN')).toBe('1. 10GB流量包（30元/月）');
    // The operator may call it something else; in zh-CN its name is shown as it is, elsewhere the catalogue's by id.
    const renamed = service('vas-video-ringback', '视频彩铃（包月）');
    expect(i18n.t('choice.item', { name: renamed }, 'zh-CN')).toBe('视频彩铃（包月）');
    expect(i18n.t('choice.item', { name: renamed }, 'zh-TW')).toBe('視訊彩鈴');
    expect(i18n.t('choice.item', { name: renamed }, 'en-US')).toBe('Video ringback tone');
  });

  it('falls back to the back end\'s name for a service the catalogue does not know (Traditional script for zh-TW)', () => {
    const unknown = service('vas-not-in-catalogue', '智能语音助手');
    expect(i18n.t('choice.item', { name: unknown }, 'en-US')).toBe('智能语音助手');
    expect(i18n.t('choice.item', { name: unknown }, 'zh-TW')).toBe('智能語音助手');
    expect(i18n.t('choice.item', { name: { kind: 'service', name: '彩铃' } }, 'en-US')).toBe('彩铃');
  });

  it('joins lists the locale\'s way and translates bound accounts with their card tails', () => {
    const names = [service('vas-ringback', '彩铃'), service('vas-music-member', '音乐会员'), service('addon-night-data', '夜间流量包')];
    expect(i18n.t('confirm.prompt', { names }, 'en-US')).toContain('cancel Ringback tone, Music membership and Night-time data pack.');
    expect(i18n.t('confirm.prompt', { names }, 'zh-CN')).toContain('退订彩铃、音乐会员、夜间流量包。');
    const accounts: NameRef[] = [{ kind: 'account', name: '微信支付' }, { kind: 'account', name: '招商银行储蓄卡（尾号6688）' }, { kind: 'account', name: '某某银行信用卡' }];
    expect(i18n.t('warn.number.bound', { accounts }, 'en-US')).toContain('linked to: WeChat Pay, China Merchants Bank debit card ending in 6688 and 某某银行信用卡.');
    expect(i18n.t('warn.number.bound', { accounts }, 'zh-TW')).toContain('微信支付、招商銀行金融卡（末碼6688）、某某銀行信用卡');
    expect(i18n.t('warn.number.bound', { accounts }, 'zh-CN')).toContain('微信支付、招商银行储蓄卡（尾号6688）、某某银行信用卡');
  });

  it('says how a service was ordered and when, in the reply locale', () => {
    const params = { n: 2, name: service('vas-video-ringback', '视频彩铃'), feeFen: 1000, since: '2024-03-15', channel: { kind: 'channel' as const, name: '短信' }, lastUsedAt: '2026-11-20T08:00:00Z' };
    expect(i18n.t('review.item', params, 'en-US')).toBe('2. Video ringback tone: ¥10/month, added Mar 15, 2024 by SMS, last used Nov 20, 2026');
    expect(i18n.t('review.item', params, 'zh-TW')).toBe('2. 視訊彩鈴：人民幣10元/月，2024年3月15日透過簡訊開通，最後使用於2026年11月20日');
    expect(i18n.t('review.item', params, 'zh-CN')).toBe('2. 视频彩铃：10元/月，2024年3月15日通过短信开通，最后使用于2026年11月20日');
  });

  it('writes dates with month names and Beijing time in English, and amounts with cents only when there are any', () => {
    expect(i18n.t('receipt.item', { name: service('vas-ringback', '彩铃'), ticket: 'TD1', createdAt: '2026-11-24T02:05:00Z', effectiveAt: '2026-11-30T16:00:00.000Z', code: 'X' }, 'en-US'))
      .toBe('· Ringback tone: ticket TD1, submitted Nov 24, 2026, 10:05 Beijing time, expected to take effect on Dec 1, 2026, receipt code X');
    expect(i18n.t('warn.number.arrears', { amountFen: 4850 }, 'en-US')).toContain('¥48.50');
    expect(i18n.t('warn.number.arrears', { amountFen: 4850 }, 'zh-TW')).toContain('人民幣48.50元');
  });
});
