import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { I18n } from '../../src/i18n/i18n.js';
import { DATA_ASSETS_DIR, LOCALES_DIR, PROJECT_ROOT } from '../../src/paths.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const zh = JSON.parse(readFileSync(join(LOCALES_DIR, 'zh-CN.json'), 'utf8')) as Record<string, string>;

describe('locales', () => {
  it('every literal message key used by the machine and the runtime exists in zh-CN', () => {
    const sources = [...files(join(PROJECT_ROOT, 'dialogs')), ...files(join(PROJECT_ROOT, 'src'))];
    const used = new Set<string>();
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/key:\s*'([a-zA-Z]+\.[\w.]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/\bt\('([a-zA-Z]+\.[\w.]+)'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(40);
    for (const key of used) expect(zh[key], key).toBeTypeOf('string');
  });

  it('every key built at run time exists: effective dates, statuses, catalogue notes', () => {
    const dynamic = [
      ...['immediate', 'nextMonth', 'afterVisit'].map((e) => `warn.effective.${e}`),
      ...['submitted', 'processing', 'completed', 'rejected'].map((s) => `status.item.${s}`),
      ...['processing', 'completed', 'rejected'].map((s) => `notify.status.${s}`),
      'status.reason.arrears', 'status.reason.unknown', 'status.reason.none', 'status.reason.orderConfirmedSms', 'status.reason.orderConfirmedSignature', 'dispute.confirmedOrder.sms', 'dispute.confirmedOrder.signature',
    ];
    const catalogue = JSON.parse(readFileSync(join(DATA_ASSETS_DIR, 'catalogue.json'), 'utf8')) as { services: { notes: string[] }[] };
    for (const s of catalogue.services) dynamic.push(...s.notes);
    for (const key of dynamic) expect(zh[key], key).toBeTypeOf('string');
  });

  it('has no user-facing Chinese in TypeScript outside locales and NLU data', () => {
    for (const file of [...files(join(PROJECT_ROOT, 'dialogs')), ...files(join(PROJECT_ROOT, 'src'))]) {
      if (file.includes('/src/nlu/')) continue;
      const code = readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).join('\n');
      const strings = [...code.matchAll(/(['"`])((?:(?!\1).)*[\u4e00-\u9fff](?:(?!\1).)*)\1/g)].map((m) => m[2]);
      expect(strings, file).toEqual([]);
    }
  });

  it('formats money in yuan, dates in Beijing time and masks numbers', () => {
    const i18n = new I18n();
    expect(i18n.t('warn.number.arrears', { amountFen: 4850 })).toContain('48.50元');
    expect(i18n.t('warn.contract', { until: '2027-06-30', penaltyFen: 30000 })).toContain('2027年6月30日');
    expect(i18n.t('warn.contract', { until: '2027-06-30', penaltyFen: 30000 })).toContain('300元');
    expect(i18n.t('receipt.item', { name: 'x', ticket: 'TD1', effectiveAt: '2026-11-30T16:00:00.000Z' })).toContain('2026年12月1日');
    expect(i18n.t('identity.code.prompt', { msisdn: '13800138000' })).toContain('138****8000');
    expect(i18n.t('identity.code.prompt', { msisdn: '13800138000' })).not.toContain('13800138000');
  });
});
