import { createHash, randomBytes } from 'node:crypto';

/** The header a guest sends its cart token in (Fastify sees header names in lower case). */
export const CART_TOKEN_HEADER = 'x-cart-token';

/** 256 random bits, URL-safe: the only key to a guest cart, so it must not be guessable. */
export function newCartToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Only the SHA-256 is stored: a database leak hands out no usable cart token. */
export function hashCartToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
