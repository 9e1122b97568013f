import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.ts';
import type { Principal } from './principal.ts';

/**
 * Every route says who may call it. `owner` means "any signed-in user; the service then checks the
 * record belongs to them" and names the owner so the rule reads in the route table and OpenAPI.
 * `verified` is a signed-in user whose email is verified.
 */
export type AccessRule =
  | { readonly kind: 'public'; readonly reason?: string }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'verified' }
  | { readonly kind: 'roles'; readonly roles: readonly string[] }
  | { readonly kind: 'owner'; readonly owner: string };

export const access = {
  public: (reason?: string): AccessRule => (reason ? { kind: 'public', reason } : { kind: 'public' }),
  authenticated: (): AccessRule => ({ kind: 'authenticated' }),
  verified: (): AccessRule => ({ kind: 'verified' }),
  roles: (...roles: string[]): AccessRule => ({ kind: 'roles', roles }),
  owner: (owner: string): AccessRule => ({ kind: 'owner', owner }),
  staff: (): AccessRule => ({ kind: 'roles', roles: ['staff', 'admin'] }),
} as const;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function describeAccess(rule: AccessRule): string {
  switch (rule.kind) {
    case 'public':
      return 'public';
    case 'authenticated':
      return 'authenticated';
    case 'verified':
      return 'authenticated, email verified';
    case 'roles':
      return `roles: ${rule.roles.join(', ')}`;
    case 'owner':
      return `owner: ${rule.owner}`;
  }
}

/**
 * The caller of a route whose access rule already required sign-in (the rule ran in onRequest);
 * narrows `request.principal` for the handler and refuses again should a route be misdeclared.
 */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'Sign in to continue');
  return request.principal;
}

export function assertAllowed(rule: AccessRule, principal: Principal | null): void {
  if (rule.kind === 'public') return;
  if (!principal) throw new AppError('unauthenticated', 'Sign in to continue');
  if (rule.kind === 'verified' && !principal.emailVerified) {
    throw new AppError('email_not_verified', 'Verify your email address first');
  }
  if (rule.kind === 'roles' && !principal.roles.some((role) => rule.roles.includes(role))) {
    throw new AppError('forbidden', 'You do not have access to this resource');
  }
}

export function requireAccess(request: FastifyRequest, _reply: FastifyReply): void {
  const rule = request.routeOptions.config.access;
  // Routes Fastify adds itself (404 handler) have no rule and are public by nature.
  if (rule) assertAllowed(rule, request.principal);
}
