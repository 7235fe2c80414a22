import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_ASSETS_DIR } from '../paths.js';

/**
 * Recognises a short request for another reply language (data/locale-phrases.json), on text the
 * NLU already normalised. Long messages never switch: 用繁体字写的投诉 is not a request.
 */
export function loadLocaleRequests(file = join(DATA_ASSETS_DIR, 'locale-phrases.json')): (normalized: string) => string | null {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { maxChars: number; locales: Record<string, string[]> };
  const entries = Object.entries(data.locales);
  return (normalized) => {
    const text = normalized.trim();
    if (text.length === 0 || text.length > data.maxChars) return null;
    for (const [locale, phrases] of entries) if (phrases.some((p) => text.includes(p))) return locale;
    return null;
  };
}
