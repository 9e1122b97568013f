import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import type { AccountsContext } from './accounts.context.ts';
import type { Role } from './accounts.tables.ts';
import { passwordChangedTemplate } from './accounts.templates.ts';
import { sendPasswordResetEmail, sendVerificationEmail } from './email-verification.ts';
import { hashToken } from './secure-tokens.ts';
import { revokeUserSessions } from './sessions.repo.ts';
import { type ClientInfo, endSession, type IssuedTokens, startSession } from './sessions.service.ts';
import { consumeUserToken } from './user-tokens.repo.ts';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  lockUserById,
  normalizeEmail,
  type User,
  updateUser,
  upsertSellerProfile,
} from './users.repo.ts';

export type AccountKind = 'buyer' | 'seller' | 'both';

export interface SignedIn extends IssuedTokens {
  readonly user: User;
}

function rolesFor(kind: AccountKind): Role[] {
  if (kind === 'seller') return ['seller'];
  if (kind === 'both') return ['buyer', 'seller'];
  return ['buyer'];
}

// Verifying against a real hash when the account does not exist keeps a failed login for an
// unknown email as slow as one for a known email, so timing does not reveal which emails exist.
let dummyHash: Promise<string> | undefined;

export async function register(
  context: AccountsContext,
  input: {
    email: string;
    password: string;
    displayName: string;
    locale?: 'en' | 'ko';
    kind?: AccountKind;
    shopName?: string;
    client: ClientInfo;
  },
): Promise<SignedIn> {
  const { db } = context.services;
  const kind = input.kind ?? 'buyer';
  if (kind !== 'buyer' && !input.shopName) {
    throw new AppError('validation_failed', 'A seller account needs a shop name', {
      fields: [{ field: 'body.shopName', message: 'is required for a seller account' }],
    });
  }
  const passwordHash = await context.passwords.hash(input.password);
  return db.transaction(async (tx) => {
    const user = await insertUser(tx, {
      email: normalizeEmail(input.email),
      passwordHash,
      passwordChangedAt: context.services.clock.now(),
      displayName: input.displayName.trim(),
      locale: input.locale ?? context.services.config.locale.default,
      roles: rolesFor(kind),
    });
    if (!user) throw new AppError('email_taken', 'An account with this email already exists');
    if (input.shopName) await upsertSellerProfile(tx, user.id, { shopName: input.shopName.trim() });
    await sendVerificationEmail(context, tx, user, { throttled: false });
    const tokens = await startSession(context, tx, user, input.client);
    return { ...tokens, user };
  });
}

export async function login(
  context: AccountsContext,
  input: { email: string; password: string; client: ClientInfo },
): Promise<SignedIn> {
  const { db } = context.services;
  const { account: accountCounter, ip: ipCounter } = context.loginFailures;
  const email = normalizeEmail(input.email);
  const ipKey = input.client.ip ?? 'unknown';
  await ipCounter.assertNotLocked(db, ipKey);
  await accountCounter.assertNotLocked(db, email);

  const user = await findUserByEmail(db, email);
  dummyHash ??= context.passwords.hash('caravan-timing-equalizer');
  const valid = user?.passwordHash
    ? await context.passwords.verify(user.passwordHash, input.password)
    : (await context.passwords.verify(await dummyHash, input.password)) && false;
  if (!user || !valid) {
    await Promise.all([accountCounter.recordFailure(db, email), ipCounter.recordFailure(db, ipKey)]);
    throw new AppError('invalid_credentials', 'The email or password is wrong');
  }
  if (user.status !== 'active') throw new AppError('account_deactivated', 'This account is not active');
  await accountCounter.reset(db, email);

  // Parameters raised since this hash was made: upgrade it now that we hold the password.
  const rehash = context.passwords.needsRehash(user.passwordHash!)
    ? await context.passwords.hash(input.password)
    : undefined;
  return db.transaction(async (tx) => {
    if (rehash) await updateUser(tx, user.id, { passwordHash: rehash });
    const tokens = await startSession(context, tx, user, input.client);
    return { ...tokens, user };
  });
}

export async function logout(context: AccountsContext, sessionId: string | undefined): Promise<void> {
  if (sessionId) await endSession(context, sessionId, 'logout');
}

export async function verifyEmail(context: AccountsContext, token: string): Promise<User> {
  const { db, clock } = context.services;
  const verified = await db.transaction(async (tx) => {
    const now = clock.now();
    const consumed = await consumeUserToken(tx, 'verify_email', hashToken(token), now);
    if (!consumed) throw new AppError('invalid_token', 'This link is invalid, used or expired');
    const user = await findUserById(tx, consumed.userId);
    if (user?.status !== 'active')
      throw new AppError('invalid_token', 'This link is invalid, used or expired');
    if (user.emailVerifiedAt) return user;
    return (await updateUser(tx, user.id, { emailVerifiedAt: now }))!;
  });
  // Open sessions gain verified-only access now, not when their cached state expires.
  context.verifier.forgetUser(verified.id);
  return verified;
}

export async function resendVerification(context: AccountsContext, userId: string): Promise<void> {
  await context.services.db.transaction(async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw new AppError('not_found', 'No such user');
    if (user.emailVerifiedAt) throw new AppError('conflict', 'This email address is already verified');
    await sendVerificationEmail(context, tx, user, { throttled: true });
  });
}

/** Always answers the same way, whether or not the email has an account. */
export async function requestPasswordReset(context: AccountsContext, email: string): Promise<void> {
  await context.services.db.transaction(async (tx) => {
    const user = await findUserByEmail(tx, email);
    if (user?.status !== 'active') return;
    try {
      await sendPasswordResetEmail(context, tx, user);
    } catch (error) {
      // Throttled: answering 429 would tell who has an account. The earlier email still works.
      if (!(error instanceof AppError && error.code === 'resend_too_soon')) throw error;
    }
  });
}

async function setPassword(
  context: AccountsContext,
  newPassword: string,
  options: { keepSessionId?: string; reason: string },
  /** Finds (and locks) the user inside the transaction, checking whatever the caller requires. */
  resolveUser: (tx: DbOrTx) => Promise<User>,
): Promise<void> {
  const { db, clock, notifier } = context.services;
  const hashed = await context.passwords.hash(newPassword);
  const revoked = await db.transaction(async (tx) => {
    const user = await resolveUser(tx);
    const now = clock.now();
    await updateUser(tx, user.id, { passwordHash: hashed, passwordChangedAt: now });
    const ids = await revokeUserSessions(tx, user.id, options.reason, now, options.keepSessionId);
    await notifier.notify(tx, {
      template: passwordChangedTemplate.name,
      locale: user.locale,
      data: { name: user.displayName },
      to: { email: user.email, userId: user.id },
      dedupeKey: `password-changed:${user.id}:${now.getTime()}`,
    });
    return ids;
  });
  for (const id of revoked) context.verifier.forget(id);
}

/** The token is consumed in the same transaction as the change: a failure leaves it usable. */
export async function resetPassword(
  context: AccountsContext,
  token: string,
  newPassword: string,
): Promise<void> {
  await setPassword(context, newPassword, { reason: 'password reset' }, async (tx) => {
    const consumed = await consumeUserToken(
      tx,
      'reset_password',
      hashToken(token),
      context.services.clock.now(),
    );
    if (!consumed) throw new AppError('invalid_token', 'This link is invalid, used or expired');
    const user = await lockUserById(tx, consumed.userId);
    if (user?.status !== 'active') throw new AppError('account_deactivated', 'This account is not active');
    return user;
  });
}

/** Changing the password signs out every other session; this one stays. */
export async function changePassword(
  context: AccountsContext,
  input: { userId: string; sessionId: string | undefined; currentPassword: string; newPassword: string },
): Promise<void> {
  const options = {
    reason: 'password changed',
    ...(input.sessionId ? { keepSessionId: input.sessionId } : {}),
  };
  await setPassword(context, input.newPassword, options, async (tx) => {
    const user = await lockUserById(tx, input.userId);
    if (!user) throw new AppError('not_found', 'No such user');
    const valid = user.passwordHash
      ? await context.passwords.verify(user.passwordHash, input.currentPassword)
      : false;
    if (!valid) throw new AppError('invalid_credentials', 'The current password is wrong');
    return user;
  });
}
