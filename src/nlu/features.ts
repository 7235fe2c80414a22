/**
 * Turns a normalised utterance and its words into the sparse feature names the classifier sees:
 * words, character unigrams and bigrams (with start/end markers), a length bucket and, for short
 * messages, the whole message. Digit runs
 * are reduced to their length class so that "123456" and "654321" look alike.
 */

const DIGIT_RUN = /\d+/g;
const SKIPPED = /[\s!-/:-@[-`{-~，。！？、；：“”‘’（）《》【】…—·~～]/;

/** Longest message (in characters) that is also a feature as a whole. */
const WHOLE_MAX = 4;

function digitClass(run: string): string {
  const n = run.length;
  if (n <= 2) return 'd' + n;
  if (n === 4 || n === 5 || n === 6 || n === 11 || n === 14) return 'd' + n;
  return 'dn';
}

function lengthBucket(n: number): string {
  if (n <= 1) return 'len:1';
  if (n === 2) return 'len:2';
  if (n <= 4) return 'len:3';
  if (n <= 8) return 'len:5';
  if (n <= 16) return 'len:9';
  return 'len:17';
}

/** Unique feature names of one utterance. */
export function extractFeatures(normalized: string, words: readonly string[]): string[] {
  const out = new Set<string>();
  for (const w of words) {
    if (SKIPPED.test(w) && w.length === 1) continue;
    out.add(/^\d+$/.test(w) ? 'w:#' + digitClass(w) : 'w:' + w);
  }
  const shape = normalized.replace(DIGIT_RUN, '#');
  const chars: string[] = [];
  for (const ch of shape) if (!SKIPPED.test(ch)) chars.push(ch);
  let prev = '^';
  for (const ch of chars) {
    out.add('c:' + ch);
    out.add('b:' + prev + ch);
    prev = ch;
  }
  if (chars.length > 0) out.add('b:' + prev + '$');
  // A short message is a stock phrase as a whole (退订, 不是, 算了): naive Bayes otherwise reads it
  // only through words it shares with longer sentences of other intents (撤销退订).
  if (chars.length > 0 && chars.length <= WHOLE_MAX) out.add('u:' + chars.join(''));
  out.add(lengthBucket(chars.length));
  return [...out];
}
