/**
 * Who is calling. The accounts module issues access tokens and installs the verifier; the platform
 * only knows this shape, so HTTP access rules and the WebSocket hub share one notion of identity.
 */
export interface Principal {
  readonly userId: string;
  readonly roles: readonly string[];
  readonly emailVerified: boolean;
  readonly sessionId?: string;
}

export interface AccessTokenVerifier {
  /** Resolves the principal for a valid access token, or null for anything else. Never throws. */
  verify(token: string): Promise<Principal | null>;
}

/** Until accounts installs a real verifier, no token is valid. */
export const rejectAllTokens: AccessTokenVerifier = {
  verify: async () => null,
};

export function hasRole(principal: Principal | null | undefined, ...roles: string[]): boolean {
  return !!principal && principal.roles.some((role) => roles.includes(role));
}
