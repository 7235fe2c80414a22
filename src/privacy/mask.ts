/**
 * Masking of personal data for logs, transcripts shown to agents and error messages.
 * Mobile numbers keep their first 3 and last 4 digits (138****1234); verification codes,
 * service passwords and ID digits are replaced entirely.
 */

const MOBILE = /(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)/g;
const ID_NUMBER = /(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])/g;
const SIX_DIGITS = /(?<!\d)\d{5}[\dXx](?![\dA-Za-z])/g;

export function maskMsisdn(msisdn: string): string {
  const digits = msisdn.replace(/\D/g, '');
  if (digits.length < 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
}

/**
 * Full-width digits, X, plus, hyphen and the ideographic space as their ASCII forms: a keyboard in
 * full-width mode types them, the bot reads them as numbers, so masking must see them as numbers too.
 */
function toHalfWidth(text: string): string {
  return text.replace(/[\uFF10-\uFF19\uFF38\uFF58\uFF0B\uFF0D]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, ' ');
}

/** Masks every mobile number, ID number and 6-character code-like token in free text. */
export function maskText(text: string): string {
  return toHalfWidth(text)
    .replace(ID_NUMBER, (m) => `${m.slice(0, 1)}****************${'*'}`.slice(0, m.length))
    .replace(MOBILE, (_m, a: string, _b: string, c: string) => `${a}****${c}`)
    .replace(SIX_DIGITS, '******');
}

/** Deep-masks strings inside a JSON-like value (for structured log fields). */
export function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return maskText(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(v);
    return out;
  }
  return value;
}
