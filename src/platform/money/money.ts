/**
 * Money is integer minor units plus an ISO 4217 code. Most currencies have 2 decimals; these are
 * the exceptions vendors care about (Stripe's zero-decimal list, PayPal's decimal strings).
 */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  JOD: 3,
  KWD: 3,
  OMR: 3,
  TND: 3,
};

/** Decimal places of `currency` (2 unless listed). */
export function minorUnitExponent(currency: string): number {
  return EXPONENTS[currency.toUpperCase()] ?? 2;
}

/** 1234 USD → "12.34"; 1234 KRW → "1234": the decimal string vendors such as PayPal expect. */
export function minorToDecimalString(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`not an integer amount: ${amountMinor}`);
  const exponent = minorUnitExponent(currency);
  if (exponent === 0) return String(amountMinor);
  const negative = amountMinor < 0;
  const digits = String(Math.abs(amountMinor)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, -exponent);
  const fraction = digits.slice(-exponent);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** "12.34" USD → 1234. Refuses more decimals than the currency has (no silent rounding of money). */
export function decimalStringToMinor(value: string, currency: string): number {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new RangeError(`not a decimal amount: ${value}`);
  const [, sign, whole, fraction = ''] = match;
  const exponent = minorUnitExponent(currency);
  if (fraction.replace(/0+$/, '').length > exponent) {
    throw new RangeError(`${value} has more decimals than ${currency} allows`);
  }
  const minor = Number(`${whole}${fraction.padEnd(exponent, '0').slice(0, exponent)}`);
  return sign === '-' ? -minor : minor;
}
