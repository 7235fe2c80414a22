/**
 * Masking of personal data for logs, transcripts shown to agents and error messages.
 * Mobile numbers keep their first 3 and last 4 digits (138****1234); verification codes,
 * service passwords and ID digits are replaced entirely.
 */

const MOBILE = /(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)/g;
const ID_NUMBER = /(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])/g;
const SIX_DIGITS = /(?<!\d)\d{5}[\dXx](?![\dA-Za-z])/g;
/** A code typed in groups (123 456, 12-34-56), which the bot accepts: exactly six digits, nothing longer. */
const GROUPED_SIX = /(?<!\d[ -]?)\d(?:[ -]?\d){5}(?![ -]?\d)/g;
/**
 * Four or five digits right after a word that says they are a secret or part of one: 验证码/校验码,
 * 密码, 尾号, 卡号, 身份证, 后四位/后六位/末四位 (also with 4 or 6), in either script, up to six other
 * characters between (验证码是, 身份证后四位：). Shorter codes, card tails and ID fragments; amounts, years and sizes
 * (1000元, 2025年, 1000M) have no such word before them.
 */
const CUED_SHORT_DIGITS = /((?:[\u9a8c\u9a57][\u8bc1\u8b49][\u7801\u78bc]|\u6821[\u9a8c\u9a57][\u7801\u78bc]|\u5bc6[\u7801\u78bc]|[\u5c3e\u5361][\u53f7\u865f]|\u8eab[\u4efd\u5206][\u8bc1\u8b49]|[\u540e\u5f8c\u672b][\u56db\u516d46]\u4f4d)[^\d\n]{0,6}?)(\d{4,5})(?![\dA-Za-z])/g;
/** A message of four or five digits and nothing else: the answer to a question about a code or an ID. */
const BARE_SHORT_DIGITS = /^(\s*)(\d{4,5})(\s*)$/;
/** Six or more digits spelled with Chinese numerals (一三八…, 幺 and 两 included), which the bot reads as numbers. */
const SPELLED_DIGITS = /[\u96f6\u3007\u4e00\u4e8c\u4e09\u56db\u4e94\u516d\u4e03\u516b\u4e5d\u5e7a\u4e24]{6,}/g;

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

/**
 * Masks every mobile number, ID number and 6-character code-like token in free text, however it
 * was typed: full-width, in groups, or spelled in Chinese numerals; and four or five digits that a
 * word before them calls a code, password, card tail or ID digits, or that are the whole message.
 */
export function maskText(text: string): string {
  return toHalfWidth(text)
    .replace(SPELLED_DIGITS, (m) => '*'.repeat(m.length))
    .replace(ID_NUMBER, (m) => `${m.slice(0, 1)}****************${'*'}`.slice(0, m.length))
    .replace(MOBILE, (_m, a: string, _b: string, c: string) => `${a}****${c}`)
    .replace(SIX_DIGITS, '******')
    .replace(GROUPED_SIX, (m) => m.replace(/\d/g, '*'))
    .replace(CUED_SHORT_DIGITS, (_m, cue: string, digits: string) => `${cue}${'*'.repeat(digits.length)}`)
    .replace(BARE_SHORT_DIGITS, (_m, before: string, digits: string, after: string) => `${before}${'*'.repeat(digits.length)}${after}`);
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
