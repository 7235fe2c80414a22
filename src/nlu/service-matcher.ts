import { distance } from 'fastest-levenshtein';
import type { Catalogue, TargetType } from '../domain/types.js';
import type { NluContext } from './nlu.js';
import type { Normalizer } from './normalize.js';
import { alternation } from '../util/regexp.js';

/** A service named in the text. */
export interface ServiceMatch {
  serviceId: string;
  target: TargetType;
  /** Where the name starts in the (typo-fixed) normalised text; -1 when found through context only. */
  start: number;
  /** 1 for an exact name or alias, less for a fuzzy or partial match. */
  score: number;
}

/** Finds catalogue services in normalised text. Pure; a few µs per utterance. */
export interface ServiceMatcher {
  /** Best match first. `categoryTargets` are targets named by generic words (宽带, 号码) that only the user's own subscriptions can resolve. */
  match(text: string, words: readonly string[], context: NluContext | undefined, categoryTargets: ReadonlySet<TargetType>): ServiceMatch[];
  /** Generic catalogue words (宽带, 号码 …) found in the text, with the target each names. */
  categories(text: string): TargetType[];
  /**
   * Catalogue ids whose names contain a generic word found in the text (流量包 → 10GB流量包, 夜间流量包…),
   * but for words that can mean one of the `named` services (会员 beside 视频会员); the named ones are not included.
   */
  families(text: string, named?: readonly string[]): string[];
}

interface Surface {
  text: string;
  serviceId: string;
  target: TargetType;
}

const MIN_FUZZY_LENGTH = 4;

function allowedDistance(length: number): number {
  return length >= 7 ? 2 : 1;
}

/**
 * Builds the matcher over the catalogue's names (in every reply locale) and aliases. Generic aliases (`categoryWords`)
 * never name a service by themselves: 宽带 could be either broadband product, 号码 appears in
 * "my number is …".
 */
export function createServiceMatcher(
  catalogue: Catalogue,
  normalize: Normalizer,
  categoryWords: readonly string[],
  partialNames: { suffixes: readonly string[]; except: readonly string[] } = { suffixes: [], except: [] },
): ServiceMatcher {
  const category = new Set(categoryWords.map((w) => normalize(w)));
  const surfaces: Surface[] = [];
  const categoryTarget = new Map<string, TargetType>();
  const byService = new Map<string, { target: TargetType; surfaces: string[] }>();
  for (const s of catalogue.services) {
    // The names shown in zh-TW and en-US replies too: users type back what they were shown.
    const names = [...new Set([s.name, ...Object.values(s.names), ...s.aliases].map((n) => normalize(n)).filter((n) => n.length > 0))];
    byService.set(s.id, { target: s.target, surfaces: names });
    for (const n of names) {
      if (category.has(n)) categoryTarget.set(n, s.target);
      else surfaces.push({ text: n, serviceId: s.id, target: s.target });
    }
  }
  // Longest first, so that 视频彩铃 claims its characters before 彩铃 can.
  surfaces.sort((a, b) => b.text.length - a.text.length);
  const byFirstChar = new Map<string, Surface[]>();
  for (const s of surfaces) {
    const key = s.text[0]!;
    const list = byFirstChar.get(key) ?? [];
    list.push(s);
    byFirstChar.set(key, list);
  }
  const fuzzyCandidates = surfaces
    .filter((s) => [...s.text].length >= MIN_FUZZY_LENGTH)
    .map((s) => ({ ...s, chars: new Set(s.text), bigrams: Array.from({ length: s.text.length - 1 }, (_, i) => s.text.slice(i, i + 2)) }));
  // Character → the fuzzy candidates holding it and how often: the characters a text shares with
  // each name are counted from the text's side, instead of walking every name for every message.
  const postings = new Map<string, { candidate: number; count: number }[]>();
  fuzzyCandidates.forEach((s, candidate) => {
    const counts = new Map<string, number>();
    for (const ch of s.text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    for (const [ch, count] of counts) {
      const list = postings.get(ch) ?? [];
      list.push({ candidate, count });
      postings.set(ch, list);
    }
  });
  /** Normalised names of subscriptions (context names repeat on every message of a dialog). */
  const normalizedNames = new Map<string, string>();
  const normalizedName = (name: string): string => {
    let n = normalizedNames.get(name);
    if (n === undefined) {
      n = normalize(name);
      if (normalizedNames.size > 4096) normalizedNames.clear();
      normalizedNames.set(name, n);
    }
    return n;
  };
  const heads = partialHeads(byService, category, partialNames, normalize);
  const categoryList = [...categoryTarget.entries()].sort((a, b) => b[0].length - a[0].length);
  const genericWords = [...category].filter((w) => w.length > 0).sort((a, b) => b.length - a.length);
  const genericPattern = genericWords.length > 0 ? new RegExp(alternation(genericWords), 'g') : null;

  function withoutCategoryWords(text: string): string {
    return genericPattern ? text.replace(genericPattern, (word) => '\u0000'.repeat(word.length)) : text;
  }

  function exact(text: string): ServiceMatch[] {
    const taken = new Uint8Array(text.length);
    const found: ServiceMatch[] = [];
    const hits: { s: Surface; start: number }[] = [];
    for (let i = 0; i < text.length; i++) {
      const list = byFirstChar.get(text[i]!);
      if (!list) continue;
      for (const s of list) if (text.startsWith(s.text, i)) hits.push({ s, start: i });
    }
    hits.sort((a, b) => b.s.text.length - a.s.text.length || a.start - b.start);
    for (const h of hits) {
      let free = true;
      for (let k = h.start; k < h.start + h.s.text.length; k++) if (taken[k]) free = false;
      if (!free) continue;
      taken.fill(1, h.start, h.start + h.s.text.length);
      found.push({ serviceId: h.s.serviceId, target: h.s.target, start: h.start, score: 1 });
    }
    return found;
  }

  function fuzzy(text: string): ServiceMatch[] {
    // How many of each name's characters occur in the text.
    const shared = new Uint16Array(fuzzyCandidates.length);
    for (const ch of new Set(text)) for (const p of postings.get(ch) ?? []) shared[p.candidate]! += p.count;
    let bigrams: Set<string> | undefined;
    const found: ServiceMatch[] = [];
    for (let c = 0; c < fuzzyCandidates.length; c++) {
      const s = fuzzyCandidates[c]!;
      const len = s.text.length;
      const maxD = allowedDistance(len);
      if (shared[c]! < len - maxD) continue;
      if (!bigrams) {
        bigrams = new Set<string>();
        for (let i = 0; i + 1 < text.length; i++) bigrams.add(text.slice(i, i + 2));
      }
      // q-gram lemma: within maxD edits at least (len - 1) - 2·maxD of the name's bigrams survive.
      let sharedBigrams = 0;
      for (const b of s.bigrams) if (bigrams.has(b)) sharedBigrams++;
      if (sharedBigrams < len - 1 - 2 * maxD) continue;
      let bestD = maxD + 1;
      let bestStart = -1;
      for (let w = len - maxD; w <= len + maxD; w++) {
        for (let i = 0; i + w <= text.length; i++) {
          // Within distance maxD, one of the window's first maxD + 1 characters must occur in the name.
          let anchored = false;
          for (let k = i; k <= i + maxD && k < i + w; k++) if (s.chars.has(text[k]!)) anchored = true;
          if (!anchored) continue;
          const d = distance(text.slice(i, i + w), s.text);
          if (d < bestD) {
            bestD = d;
            bestStart = i;
          }
        }
      }
      if (bestD <= maxD) found.push({ serviceId: s.serviceId, target: s.target, start: bestStart, score: 1 - bestD / len });
    }
    found.sort((a, b) => b.score - a.score || a.start - b.start);
    return found;
  }

  /** Subscriptions whose name or aliases contain a word the user typed (会员 → 音乐会员). */
  function fromContext(words: readonly string[], context: NluContext, categoryTargets: ReadonlySet<TargetType>): ServiceMatch[] {
    const found: ServiceMatch[] = [];
    for (const sub of context.subscriptions ?? []) {
      const known = byService.get(sub.serviceId);
      const names = [normalizedName(sub.name), ...(known?.surfaces ?? [])];
      let best = 0;
      for (const w of words) {
        if ([...w].length < 2) continue;
        for (const n of names) if (n.includes(w)) best = Math.max(best, w.length / n.length);
      }
      if (known && categoryTargets.has(known.target)) best = Math.max(best, 0.5);
      if (best > 0) found.push({ serviceId: sub.serviceId, target: known?.target ?? 'vas', start: -1, score: best });
    }
    return found.sort((a, b) => b.score - a.score);
  }

  return {
    families(text: string, named: readonly string[] = []): string[] {
      const out = new Set<string>();
      for (const word of genericWords) {
        if (!text.includes(word)) continue;
        const family = [...byService].filter(([, known]) => known.surfaces.some((n) => n.includes(word))).map(([serviceId]) => serviceId);
        // 视频会员，就是那个会员: a generic word that can mean a service named beside it means that one.
        if (family.some((id) => named.includes(id))) continue;
        for (const id of family) out.add(id);
      }
      return [...out];
    },
    categories(text: string): TargetType[] {
      const out: TargetType[] = [];
      for (const [word, target] of categoryList) if (text.includes(word)) out.push(target);
      return out;
    },
    match(text, words, context, categoryTargets) {
      let matches = exact(text);
      // Typo tolerance must not turn a generic word (流量包) into one particular service (10G流量包).
      if (matches.length === 0) matches = fuzzy(withoutCategoryWords(text));
      if (matches.length === 0) matches = headsIn(text, heads);
      matches.sort((a, b) => a.start - b.start);
      const subs = context?.subscriptions;
      if (!subs || subs.length === 0) return dedupe(matches);
      const owned = new Set(subs.map((s) => s.serviceId));
      // A name the user does not have but a subscription contains (彩铃 when they have 视频彩铃) means that subscription.
      const remapped: ServiceMatch[] = [];
      for (const m of matches) {
        if (owned.has(m.serviceId)) {
          remapped.push(m);
          continue;
        }
        const mine = subs.find((s) => {
          const known = byService.get(s.serviceId);
          const mSurfaces = byService.get(m.serviceId)?.surfaces ?? [];
          return known?.target === m.target && known.surfaces.some((n) => mSurfaces.some((ms) => n.includes(ms)));
        });
        remapped.push(mine ? { ...m, serviceId: mine.serviceId, score: m.score * 0.9 } : m);
      }
      const mine = remapped.filter((m) => owned.has(m.serviceId));
      const ownedFirst = [
        ...mine,
        // Partial words are only consulted when no owned service was named outright.
        ...(mine.length === 0 ? fromContext(words, context!, categoryTargets) : []),
        ...remapped.filter((m) => !owned.has(m.serviceId)),
      ];
      return dedupe(ownedFirst);
    },
  };
}

/** How sure a service named by its head alone is (an exact name is 1). */
const HEAD_SCORE = 0.6;

/**
 * The heads that name one service without their generic tail (音乐 → 音乐会员): a head comes from
 * a name that is the head plus one of `suffixes` (not a category word itself, 短信包 names no one
 * service), is at least two characters long, is no name and no category word of its own, and
 * starts no name of any other service (视频 starts 视频彩铃 and 视频会员). Longest first.
 */
function partialHeads(
  byService: ReadonlyMap<string, { target: TargetType; surfaces: string[] }>,
  category: ReadonlySet<string>,
  partialNames: { suffixes: readonly string[]; except: readonly string[] },
  normalize: Normalizer,
): Surface[] {
  const suffixes = partialNames.suffixes.map((x) => normalize(x)).filter((x) => x.length > 0);
  const except = new Set(partialNames.except.map((x) => normalize(x)));
  const names = new Set([...byService.values()].flatMap((s) => s.surfaces));
  const candidates = new Map<string, string>();
  for (const [serviceId, s] of byService) {
    for (const name of s.surfaces) {
      if (category.has(name)) continue;
      for (const suffix of suffixes) {
        const head = name.slice(0, name.length - suffix.length);
        if (!name.endsWith(suffix) || [...head].length < 2 || names.has(head) || category.has(head) || except.has(head)) continue;
        candidates.set(head, serviceId);
      }
    }
  }
  const heads: Surface[] = [];
  for (const [head, serviceId] of candidates) {
    const starts = [...byService].filter(([, s]) => s.surfaces.some((n) => n.startsWith(head))).map(([id]) => id);
    if (starts.length === 1 && starts[0] === serviceId) heads.push({ text: head, serviceId, target: byService.get(serviceId)!.target });
  }
  return heads.sort((a, b) => b.text.length - a.text.length);
}

/** Services named by a head alone (音乐的那个), best first; one match per service. */
function headsIn(text: string, heads: readonly Surface[]): ServiceMatch[] {
  const found: ServiceMatch[] = [];
  for (const h of heads) {
    const start = text.indexOf(h.text);
    if (start >= 0) found.push({ serviceId: h.serviceId, target: h.target, start, score: HEAD_SCORE });
  }
  return found;
}

function dedupe(matches: ServiceMatch[]): ServiceMatch[] {
  const seen = new Set<string>();
  return matches.filter((m) => (seen.has(m.serviceId) ? false : (seen.add(m.serviceId), true)));
}
