/**
 * Rules for a new 6-digit service password (服务密码) that are easy to guess. The operator's back
 * end applies its own rules as well; these let the bot ask again politely before calling it.
 */

/** Whether `value` is not a usable service password for `msisdn`: not 6 digits, or easy to guess. */
export function isWeakPassword(value: string, msisdn: string | null): boolean {
  if (!/^\d{6}$/.test(value)) return true;
  const digits = [...value].map(Number);
  const steps = digits.slice(1).map((d, i) => d - digits[i]!);
  // 111111, 123456, 654321.
  if (steps.every((s) => s === 0) || steps.every((s) => s === 1) || steps.every((s) => s === -1)) return true;
  // 121212, 123123.
  if (value.slice(0, 2).repeat(3) === value || value.slice(0, 3).repeat(2) === value) return true;
  // Six digits in a row taken from the phone number (138001, 138000…).
  return msisdn !== null && msisdn.includes(value);
}
