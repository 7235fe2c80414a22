import type { Catalogue, TargetType } from '../domain/types.js';
import type { Lexicon } from './lexicon.js';
import type { Normalizer } from './normalize.js';

/**
 * Replaces product names with one placeholder character per target type before classification,
 * so that the intent model learns from the verbs around a product (开通 vs 退订) rather than from
 * which products happen to be frequent in the corpus.
 */
export type ProductMasker = (text: string) => string;

/** Placeholder characters: private-use code points that no user types. */
export const PRODUCT_PLACEHOLDER: Record<Exclude<TargetType, 'number'>, string> = {
  vas: '\uE001',
  addon: '\uE002',
  plan: '\uE003',
  broadband: '\uE004',
};

export function createProductMasker(catalogue: Catalogue, lexicon: Lexicon, normalize: Normalizer): ProductMasker {
  const words = new Map<string, string>();
  const add = (word: string, target: TargetType): void => {
    // Number "products" are verbs (销号, 注销): they carry the intent and stay visible.
    if (target === 'number') return;
    const w = normalize(word);
    if (w.length >= 2 && !lexicon.mask.keep.includes(w)) words.set(w, PRODUCT_PLACEHOLDER[target]);
  };
  for (const s of catalogue.services) for (const n of [s.name, ...s.aliases]) add(n, s.target);
  for (const target of ['vas', 'addon', 'plan', 'broadband'] as const) for (const w of lexicon.targets.strong[target]) add(w, target);
  for (const [w, target] of Object.entries(lexicon.mask.extra)) add(w, target as TargetType);
  const byFirst = new Map<string, string[]>();
  for (const w of [...words.keys()].sort((a, b) => b.length - a.length)) {
    const list = byFirst.get(w[0]!) ?? [];
    list.push(w);
    byFirst.set(w[0]!, list);
  }
  return (text: string): string => {
    let out = '';
    let i = 0;
    while (i < text.length) {
      const list = byFirst.get(text[i]!);
      const hit = list?.find((w) => text.startsWith(w, i));
      if (hit) {
        const placeholder = words.get(hit)!;
        // Adjacent names of one type (5G + 流量包) collapse into one placeholder.
        if (!out.endsWith(placeholder)) out += placeholder;
        i += hit.length;
      } else {
        out += text[i];
        i++;
      }
    }
    return out;
  };
}
