import type { Principal } from '../../src/platform/http/principal.ts';
import type { CaravanModule } from '../../src/platform/module.ts';

/**
 * Stands in for the accounts module's token verifier in platform tests: a token
 * `test:<userId>:<role,role>[:unverified]` is that principal; anything else is invalid.
 */
export const testAuthModule: CaravanModule = {
  name: 'test-auth',
  setup(services) {
    services.auth.verifier = {
      async verify(token) {
        const [scheme, userId, roles, flag] = token.split(':');
        if (scheme !== 'test' || !userId) return null;
        const principal: Principal = {
          userId,
          roles: roles ? roles.split(',') : ['buyer'],
          emailVerified: flag !== 'unverified',
        };
        return principal;
      },
    };
  },
};

export function bearer(userId: string, roles = 'buyer', verified = true): Record<string, string> {
  return { authorization: `Bearer test:${userId}:${roles}${verified ? '' : ':unverified'}` };
}
