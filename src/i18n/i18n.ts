import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCALES_DIR } from '../paths.js';
import { maskMsisdn } from '../privacy/mask.js';

export type Params = Record<string, string | number | undefined>;
export type Translate = (key: string, params?: Params, locale?: string) => string;

export const DEFAULT_LOCALE = 'zh-CN';

const BEIJING_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
const BEIJING_DATETIME = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/**
 * Translations loaded from locales/*.json. Placeholders: `{name}` and `{name|filter}` with filters
 * `yuan` (fen → 元), `date` (ISO date → locale date), `datetime` (ISO → date and time, Beijing), `masked` (a phone number), `t` (the value is a key).
 */
export class I18n {
  private readonly tables: Map<string, Record<string, string>>;

  constructor(dir: string = LOCALES_DIR) {
    this.tables = new Map();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      this.tables.set(file.slice(0, -5), JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, string>);
    }
    if (!this.tables.has(DEFAULT_LOCALE)) throw new Error(`locales/${DEFAULT_LOCALE}.json is missing`);
  }

  get locales(): string[] {
    return [...this.tables.keys()];
  }

  /** Picks the best supported locale for an activity's locale (zh-Hans → zh-CN, unknown → zh-CN). */
  resolve(locale: string | undefined): string {
    if (!locale) return DEFAULT_LOCALE;
    if (this.tables.has(locale)) return locale;
    const lang = locale.toLowerCase();
    for (const name of this.tables.keys()) if (name.toLowerCase() === lang) return name;
    // Traditional-script regions and tags read zh-TW; any English reads en-US; the rest of Chinese reads zh-CN.
    const family = /^zh-(hk|mo|tw|hant)/.test(lang) ? 'zh-TW' : /^en\b/.test(lang) ? 'en-US' : DEFAULT_LOCALE;
    return this.tables.has(family) ? family : DEFAULT_LOCALE;
  }

  /** Keys of the default locale starting with `prefix`. */
  keys(prefix = ''): string[] {
    return Object.keys(this.table(DEFAULT_LOCALE)).filter((k) => k.startsWith(prefix));
  }

  has(key: string, locale: string = DEFAULT_LOCALE): boolean {
    return this.table(locale)[key] !== undefined || this.table(DEFAULT_LOCALE)[key] !== undefined;
  }

  /** Unknown keys are returned as-is (and caught by the locale tests), never thrown. */
  readonly t: Translate = (key, params = {}, locale = DEFAULT_LOCALE) => {
    const template = this.table(locale)[key] ?? this.table(DEFAULT_LOCALE)[key] ?? key;
    return template.replace(/\{(\w+)(?:\|(\w+))?\}/g, (_m, name: string, filter?: string) => {
      const value = params[name];
      if (value === undefined) return '';
      return this.format(value, filter, locale, params);
    });
  };

  private table(locale: string): Record<string, string> {
    return this.tables.get(this.resolve(locale)) ?? {};
  }

  private format(value: string | number, filter: string | undefined, locale: string, params: Params): string {
    switch (filter) {
      case 'yuan': {
        const fen = Number(value);
        const amount = fen % 100 === 0 ? String(fen / 100) : (fen / 100).toFixed(2);
        return this.t('format.yuan', { amount }, locale);
      }
      case 'date': {
        const date = new Date(String(value));
        if (Number.isNaN(date.getTime())) return String(value);
        // Dates are shown in Beijing time whatever the server's zone (a nextMonth cancellation is 00:00 on the 1st there).
        const parts = Object.fromEntries(BEIJING_DATE.formatToParts(date).map((p) => [p.type, p.value]));
        return this.t('format.date', { year: parts.year, month: Number(parts.month), day: Number(parts.day) }, locale);
      }
      case 'datetime': {
        const date = new Date(String(value));
        if (Number.isNaN(date.getTime())) return String(value);
        const parts = Object.fromEntries(BEIJING_DATETIME.formatToParts(date).map((p) => [p.type, p.value]));
        return this.t('format.datetime', { year: parts.year, month: Number(parts.month), day: Number(parts.day), hour: parts.hour, minute: parts.minute }, locale);
      }
      case 'masked':
        return maskMsisdn(String(value));
      case 't':
        return this.t(String(value), params, locale);
      default:
        return String(value);
    }
  }
}
