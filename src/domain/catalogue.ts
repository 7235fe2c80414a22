import { readFileSync, readdirSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { LOCALES_DIR } from '../paths.js';
import type { Catalogue } from './types.js';

/** The locale whose names the catalogue's `name` fields are written in. */
const SOURCE_LOCALE = 'zh-CN';

const serviceSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  names: z.record(z.string(), z.string().trim().min(1)),
  aliases: z.array(z.string().min(1)),
  target: z.enum(['vas', 'addon', 'plan', 'broadband', 'number']),
  monthlyFeeFen: z.number().int().nonnegative(),
  effective: z.enum(['immediate', 'nextMonth', 'afterVisit']),
  refundThisMonth: z.boolean(),
  risk: z.enum(['sms', 'strong']),
  slaHours: z.number().positive(),
  notes: z.array(z.string()),
});

const requestTypeSchema = z.object({ slaHours: z.number().positive() });

const catalogueSchema = z.object({
  services: z.array(serviceSchema).min(1),
  requestTypes: z.object({ dispute: requestTypeSchema, balanceRefund: requestTypeSchema }),
});

/** The reply locales other than the source, as locales/ has them. */
export function translatedLocales(dir: string = LOCALES_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter((l) => l !== SOURCE_LOCALE).sort();
}

/**
 * Reads and validates the service catalogue: unique ids, and a name in each of `locales` (by
 * default every translated locale of locales/) for every service, and no name for a locale the bot
 * does not speak. Throws AppError 'config.invalid' naming the file and listing every problem.
 */
export function loadCatalogue(file: string, locales: readonly string[] = translatedLocales()): Catalogue {
  try {
    const parsed = catalogueSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const ids = new Set<string>();
    const problems: string[] = [];
    for (const s of parsed.services) {
      if (ids.has(s.id)) problems.push(`duplicate service id ${s.id}`);
      ids.add(s.id);
      const missing = locales.filter((l) => !s.names[l]);
      const unknown = Object.keys(s.names).filter((l) => !locales.includes(l));
      if (missing.length > 0) problems.push(`${s.id} has no name for ${missing.join(', ')}`);
      if (unknown.length > 0) problems.push(`${s.id} has names for unknown locales ${unknown.join(', ')}`);
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
    return parsed;
  } catch (err) {
    throw new AppError('config.invalid', { cause: err, message: `service catalogue ${file} is invalid: ${(err as Error).message}` });
  }
}
