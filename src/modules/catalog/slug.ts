/** Longest slug, in code points (not bytes: a Korean title keeps as many syllables as a Latin one letters). */
export const MAX_SLUG_LENGTH = 80;

/**
 * A URL slug that keeps letters of any script: NFKC (full-width → ASCII, compatibility forms
 * folded), lower case, every run of anything but letters, combining marks and numbers becomes one
 * '-', trimmed, capped at `MAX_SLUG_LENGTH` code points. Marks stay because Urdu, Hindi and Korean
 * jamo spell words with them. Empty (a title of only punctuation or emoji) → `fallback`.
 */
export function slugify(input: string, fallback: string): string {
  const slug = input
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  const capped = Array.from(slug).slice(0, MAX_SLUG_LENGTH).join('').replace(/-+$/, '');
  return capped || fallback;
}

/** `base`, `base-2`, `base-3` …: the n-th candidate for a slug taken n-1 times. */
export function numberedSlug(base: string, n: number): string {
  return n <= 1 ? base : suffixedSlug(base, String(n));
}

/** `base-suffix`, the base shortened so the whole stays within `MAX_SLUG_LENGTH`. */
export function suffixedSlug(base: string, suffix: string): string {
  const room = MAX_SLUG_LENGTH - suffix.length - 1;
  const head = Array.from(base).slice(0, room).join('').replace(/-+$/, '');
  return `${head}-${suffix}`;
}
