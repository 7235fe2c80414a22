import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as OpenCC from 'opencc-js/cn2t';
import { z } from 'zod';
import type { Catalogue } from '../domain/types.js';
import { AppError } from '../errors.js';
import { DATA_ASSETS_DIR } from '../paths.js';

/**
 * A name that reaches the user from data rather than from locales/: a service (catalogue id, when
 * known, and the back end's Simplified name), a bound payment account or an ordering channel (the
 * back end's Simplified name). Message parameters carry these, and the i18n formatter shows them
 * in the reply's locale. The dialog machine has a structurally identical copy (DataName).
 */
export interface NameRef {
  kind: 'service' | 'account' | 'channel';
  /** The back end's name (Simplified Chinese): shown in zh-CN, and wherever no translation is known. */
  name: string;
  /** Services: the catalogue id. */
  id?: string;
}

export function isNameRef(value: unknown): value is NameRef {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    && typeof (value as NameRef).kind === 'string' && typeof (value as NameRef).name === 'string';
}

/** The service of a back-end request, shown in the reply's locale by catalogue id, else as the back end names it. */
export function serviceNameOf(request: { serviceId: string; serviceName: string }): NameRef {
  return { kind: 'service', id: request.serviceId, name: request.serviceName };
}

type Translations = Record<string, Record<string, string>>;

const termsSchema = z.object({
  accountTail: z.string().min(1),
  accounts: z.record(z.string(), z.record(z.string(), z.string().trim().min(1))),
  channels: z.record(z.string(), z.record(z.string(), z.string().trim().min(1))),
});

/** One name in the reply's locale, or null when none is known; an account's card tail comes apart. */
export interface LocalName {
  name: string | null;
  /** Digits of a card tail (尾号6688), shown with the locale's format.accountTail. */
  tail?: string;
}

/**
 * The translations of data-borne names: services by catalogue id (catalogue `names`), accounts and
 * channels by the back end's name (data/display-names.json). Pure look-ups; no fallbacks here.
 */
export class DataNames {
  private toTraditional: ((s: string) => string) | undefined;

  constructor(
    private readonly services: Translations = {},
    private readonly accounts: Translations = {},
    private readonly channels: Translations = {},
    private readonly accountTail: RegExp | null = null,
  ) {}

  lookup(ref: NameRef, locale: string): LocalName {
    if (ref.kind === 'service') return { name: (ref.id !== undefined ? this.services[ref.id]?.[locale] : undefined) ?? null };
    if (ref.kind === 'channel') return { name: this.channels[ref.name]?.[locale] ?? null };
    const tail = this.accountTail?.exec(ref.name);
    if (!tail) return { name: this.accounts[ref.name]?.[locale] ?? null };
    const base = ref.name.slice(0, tail.index).trim();
    return { name: this.accounts[base]?.[locale] ?? null, tail: tail[1]! };
  }

  /** The base of an account name without its card tail. */
  accountBase(name: string): string {
    const tail = this.accountTail?.exec(name);
    return tail ? name.slice(0, tail.index).trim() : name;
  }

  /** Simplified → Traditional script (Taiwan characters), for names no table knows. */
  traditional(text: string): string {
    const convert = (this.toTraditional ??= OpenCC.Converter({ from: 'cn', to: 'tw' }));
    return convert(text);
  }
}

/**
 * Builds the name tables from the catalogue and data/display-names.json, checking that every
 * account and channel has a name in each of `locales` (the translated reply locales). Throws
 * AppError 'config.invalid' naming the file and listing every gap.
 */
export function loadDataNames(catalogue: Catalogue, locales: readonly string[], file = join(DATA_ASSETS_DIR, 'display-names.json')): DataNames {
  try {
    const terms = termsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const problems: string[] = [];
    for (const [group, table] of [['accounts', terms.accounts], ['channels', terms.channels]] as const) {
      for (const [name, names] of Object.entries(table)) {
        const missing = locales.filter((l) => !names[l]);
        if (missing.length > 0) problems.push(`${group}.${name} has no name for ${missing.join(', ')}`);
      }
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
    const services = Object.fromEntries(catalogue.services.map((s) => [s.id, s.names]));
    return new DataNames(services, terms.accounts, terms.channels, new RegExp(terms.accountTail));
  } catch (err) {
    throw new AppError('config.invalid', { cause: err, message: `display names ${file} are invalid: ${(err as Error).message}` });
  }
}
