import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import type { AccountsContext } from './accounts.context.ts';
import { passwordResetTemplate, verifyEmailTemplate } from './accounts.templates.ts';
import { hashToken, newOpaqueToken } from './secure-tokens.ts';
import { insertUserToken, latestUserToken, voidUserTokens } from './user-tokens.repo.ts';
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

/** Creates a verification token and emails its link, in the caller's transaction. */
export async function sendVerificationEmail(
  context: AccountsContext,
  tx: DbOrTx,
  user: User,
  options: { throttled: boolean },
): Promise<void> {
  const { clock, config, notifier } = context.services;
  if (options.throttled) throttle(context, (await latestUserToken(tx, user.id, 'verify_email'))?.createdAt);
  const token = newOpaqueToken();
  const now = clock.now();
  await insertUserToken(tx, {
    userId: user.id,
    purpose: 'verify_email',
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + VERIFY_TTL_HOURS * 3_600_000),
  });
  await notifier.notify(tx, {
    template: verifyEmailTemplate.name,
    locale: user.locale,
    data: {
      name: user.displayName,
      link: `${config.server.publicUrl}/verify-email?token=${token}`,
      hours: VERIFY_TTL_HOURS,
    },
    to: { email: user.email },
    dedupeKey: `verify-email:${hashToken(token)}`,
  });
}

/** Creates a single-use reset token (voiding older ones) and emails its link. */
export async function sendPasswordResetEmail(
  context: AccountsContext,
  tx: DbOrTx,
  user: User,
): Promise<void> {
  const { clock, config, notifier } = context.services;
  throttle(context, (await latestUserToken(tx, user.id, 'reset_password'))?.createdAt);
  const now = clock.now();
  await voidUserTokens(tx, user.id, 'reset_password', now);
  const token = newOpaqueToken();
  await insertUserToken(tx, {
    userId: user.id,
    purpose: 'reset_password',
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + RESET_TTL_MINUTES * 60_000),
  });
  await notifier.notify(tx, {
    template: passwordResetTemplate.name,
    locale: user.locale,
    data: {
      name: user.displayName,
      link: `${config.server.publicUrl}/reset-password?token=${token}`,
      minutes: RESET_TTL_MINUTES,
    },
    to: { email: user.email },
    dedupeKey: `password-reset:${hashToken(token)}`,
  });
}
