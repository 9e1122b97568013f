import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import type { AccountsContext } from './accounts.context.ts';
import { passwordResetTemplate, verifyEmailTemplate } from './accounts.templates.ts';
import { hashToken, newOpaqueToken } from './secure-tokens.ts';
import {
  insertUserToken,
  latestUserToken,
  type UserTokenPurpose,
  voidUserTokens,
} from './user-tokens.repo.ts';
import type { User } from './users.repo.ts';

const VERIFY_TTL_HOURS = 48;
const RESET_TTL_MINUTES = 60;

function throttle(context: AccountsContext, lastSentAt: Date | undefined): void {
  const interval = context.services.config.auth.emailResendIntervalSeconds * 1000;
  if (!lastSentAt) return;
  const waitMs = lastSentAt.getTime() + interval - context.services.clock.now().getTime();
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    throw new AppError('resend_too_soon', `Wait ${seconds} s before asking for another email`, {
      headers: { 'retry-after': String(seconds) },
      details: { retryAfterSeconds: seconds },
    });
  }
}

/**
 * Stores a new single-use token (as its hash) and emails a link carrying it, in the caller's
 * transaction: the email goes out only if the token row commits.
 */
async function emailTokenLink(
  context: AccountsContext,
  tx: DbOrTx,
  user: User,
  link: {
    purpose: UserTokenPurpose;
    ttlMs: number;
    path: string;
    template: string;
    data: Record<string, unknown>;
  },
): Promise<void> {
  const { clock, config, notifier } = context.services;
  const token = newOpaqueToken();
  const now = clock.now();
  await insertUserToken(tx, {
    userId: user.id,
    purpose: link.purpose,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + link.ttlMs),
  });
  await notifier.notify(tx, {
    template: link.template,
    locale: user.locale,
    data: {
      name: user.displayName,
      link: `${config.server.publicUrl}${link.path}?token=${token}`,
      ...link.data,
    },
    to: { email: user.email },
    dedupeKey: `${link.purpose}:${hashToken(token)}`,
  });
}

/** Creates a verification token and emails its link, in the caller's transaction. */
export async function sendVerificationEmail(
  context: AccountsContext,
  tx: DbOrTx,
  user: User,
  options: { throttled: boolean },
): Promise<void> {
  if (options.throttled) throttle(context, (await latestUserToken(tx, user.id, 'verify_email'))?.createdAt);
  await emailTokenLink(context, tx, user, {
    purpose: 'verify_email',
    ttlMs: VERIFY_TTL_HOURS * 3_600_000,
    path: '/verify-email',
    template: verifyEmailTemplate.name,
    data: { hours: VERIFY_TTL_HOURS },
  });
}

/** Creates a single-use reset token (voiding older ones) and emails its link. */
export async function sendPasswordResetEmail(
  context: AccountsContext,
  tx: DbOrTx,
  user: User,
): Promise<void> {
  throttle(context, (await latestUserToken(tx, user.id, 'reset_password'))?.createdAt);
  await voidUserTokens(tx, user.id, 'reset_password', context.services.clock.now());
  await emailTokenLink(context, tx, user, {
    purpose: 'reset_password',
    ttlMs: RESET_TTL_MINUTES * 60_000,
    path: '/reset-password',
    template: passwordResetTemplate.name,
    data: { minutes: RESET_TTL_MINUTES },
  });
}
