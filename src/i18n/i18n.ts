import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCALES_DIR } from '../paths.js';
import { maskMsisdn } from '../privacy/mask.js';
import { DataNames, isNameRef, type NameRef } from './data-names.js';

/** A parameter: text, a number, or names from data (shown in the reply's locale; a list is joined the locale's way). */
export type ParamValue = string | number | NameRef | NameRef[];
export type Params = Record<string, ParamValue | undefined>;
export type Translate = (key: string, params?: Params, locale?: string) => string;

export const DEFAULT_LOCALE = 'zh-CN';

const BEIJING_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
const BEIJING_DATETIME = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/**
 * Translations loaded from locales/*.json. Placeholders: `{name}` and `{name|filter}` with filters
 * `yuan` (fen → 元), `date` (ISO date → locale date), `datetime` (ISO → date and time, Beijing), `masked` (a phone number), `t` (the value is a key).
 * A parameter that is a name from data (NameRef), or a list of them, is shown in the reply's locale
 * from `names` (catalogue names by service id; accounts and channels); a name no table knows is
 * shown as the back end wrote it, in Traditional script for zh-TW.
 */
export class I18n {
  private readonly tables: Map<string, Record<string, string>>;

  constructor(dir: string = LOCALES_DIR, private readonly names: DataNames = new DataNames()) {
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

  /** A month (01–12) as the locale writes it in dates: 12 in 12月, Dec in Dec 1, 2026 (format.monthNames). */
  private month(mm: string, locale: string): string {
    const names = this.t('format.monthNames', {}, locale).split(',');
    return names[Number(mm) - 1]?.trim() ?? String(Number(mm));
  }

  /** A data-borne name in `locale`: the back end's own in the source locale, the translation elsewhere. */
  name(ref: NameRef, locale: string): string {
    const loc = this.resolve(locale);
    if (loc === DEFAULT_LOCALE) return ref.name;
    const local = this.names.lookup(ref, loc);
    const fallback = (text: string) => (loc === 'zh-TW' ? this.names.traditional(text) : text);
    if (local.tail === undefined) return local.name ?? fallback(ref.name);
    return this.t('format.accountTail', { name: local.name ?? fallback(this.names.accountBase(ref.name)), digits: local.tail }, loc);
  }

  /** Names joined the locale's way: 甲、乙和丙 / A, B and C. */
  list(items: string[], locale: string): string {
    if (items.length <= 1) return items.join('');
    return `${items.slice(0, -1).join(this.t('format.list.separator', {}, locale))}${this.t('format.list.last', {}, locale)}${items.at(-1)}`;
  }

  private format(value: ParamValue, filter: string | undefined, locale: string, params: Params): string {
    if (Array.isArray(value)) return this.list(value.map((v) => this.name(v, locale)), locale);
    if (isNameRef(value)) return this.name(value, locale);
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
        return this.t('format.date', { year: parts.year, month: this.month(parts.month!, locale), day: Number(parts.day) }, locale);
      }
      case 'datetime': {
        const date = new Date(String(value));
        if (Number.isNaN(date.getTime())) return String(value);
        const parts = Object.fromEntries(BEIJING_DATETIME.formatToParts(date).map((p) => [p.type, p.value]));
        return this.t('format.datetime', { year: parts.year, month: this.month(parts.month!, locale), day: Number(parts.day), hour: parts.hour, minute: parts.minute }, locale);
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
