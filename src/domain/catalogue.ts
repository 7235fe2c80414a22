import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { Catalogue } from './types.js';

const serviceSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
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

/** Reads and validates the service catalogue. Throws AppError 'config.invalid' naming the file. */
export function loadCatalogue(file: string): Catalogue {
  try {
    const parsed = catalogueSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const ids = new Set<string>();
    for (const s of parsed.services) {
      if (ids.has(s.id)) throw new Error(`duplicate service id ${s.id}`);
      ids.add(s.id);
    }
    return parsed;
  } catch (err) {
    throw new AppError('config.invalid', { cause: err, message: `service catalogue ${file} is invalid: ${(err as Error).message}` });
  }
}
