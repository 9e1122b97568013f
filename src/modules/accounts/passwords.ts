import { hash, verify } from '@node-rs/argon2';
import type { Config } from '../../platform/config/config.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hashed: string, password: string): Promise<boolean>;
  /** True when `hashed` was made with weaker or different parameters than today's. */
  needsRehash(hashed: string): boolean;
}

// OWASP's argon2id minimum (19 MiB, 2 iterations, 1 lane) is the floor the config enforces.
// @node-rs/argon2's `Algorithm` is a const enum (not importable under verbatimModuleSyntax): 2 is Argon2id.
const ARGON2ID = 2;

export function createPasswordHasher(argon2: Config['auth']['argon2']): PasswordHasher {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: argon2.memoryKib,
    timeCost: argon2.iterations,
    parallelism: 1,
  };
  const currentParams = `m=${options.memoryCost},t=${options.timeCost},p=${options.parallelism}`;
  return {
    hash: (password) => hash(password, options),
    async verify(hashed, password) {
      try {
        return await verify(hashed, password);
      } catch {
        return false; // a malformed stored hash never matches
      }
    },
    needsRehash(hashed) {
      const [, algorithm, , params] = hashed.split('$');
      return algorithm !== 'argon2id' || params !== currentParams;
    },
  };
}
