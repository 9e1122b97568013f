import { randomUUID } from 'node:crypto';
import { type AuditEntry, listAudit, recordAudit } from '../../platform/audit/audit.ts';
import { AppError } from '../../platform/errors/index.ts';
import { listInApp } from '../../platform/notify/notify.repo.ts';
import {
  blankSellerAbout,
  deleteUserAddresses,
  deleteUserAvatarJobs,
  deleteUserTokens,
  listUserAddresses,
  listUserAvatarJobs,
  listUserSessions,
} from './account-data.repo.ts';
import type { AccountsContext } from './accounts.context.ts';
import type { AccountExportT } from './privacy.schemas.ts';
import { revokeUserSessions } from './sessions.repo.ts';
import { assertAnotherActiveAdmin } from './staff.service.ts';
import { findSellerProfile, findUserById, lockUserById, updateUser } from './users.repo.ts';

const AUDIT_PAGE = 500;
// An inbox is bounded in practice; one generous read keeps the export a single consistent list.
const MAX_EXPORTED_NOTIFICATIONS = 100_000;

async function auditAbout(context: AccountsContext, userId: string): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await listAudit(context.services.db, {
      targetType: 'user',
      targetId: userId,
      limit: AUDIT_PAGE,
      ...(before !== undefined ? { before } : {}),
    });
    entries.push(...page);
    if (page.length < AUDIT_PAGE) return entries;
    before = page.at(-1)!.id;
  }
}

/** Everything held about the user, for `GET /api/me/export`. Token hashes never leave. */
export async function exportMyData(
  context: AccountsContext,
  options: { userId: string },
): Promise<AccountExportT> {
  const { db, clock } = context.services;
  const user = await findUserById(db, options.userId);
  if (!user || user.status === 'deleted') throw new AppError('not_found', 'No such account');
  const sellerProfile = await findSellerProfile(db, user.id);
  const addresses = await listUserAddresses(db, user.id);
  const sessions = await listUserSessions(db, user.id);
  const inbox = await listInApp(db, user.id, { unreadOnly: false, limit: MAX_EXPORTED_NOTIFICATIONS });
  const avatarJobs = await listUserAvatarJobs(db, user.id);
  const audit = await auditAbout(context, user.id);
  return {
    format: 'caravan-account-export/1',
    exportedAt: clock.now(),
    profile: {
      id: user.id,
      email: user.email,
      emailVerifiedAt: user.emailVerifiedAt,
      displayName: user.displayName,
      roles: user.roles,
      status: user.status,
      locale: user.locale,
      timeZone: user.timeZone,
      bio: user.bio,
      phone: user.phone,
      avatarKey: user.avatarKey,
      googleSubject: user.googleSubject,
      hasPassword: user.passwordHash !== null,
      passwordChangedAt: user.passwordChangedAt,
      createdAt: user.createdAt,
      updatedAt: user.updatedAt,
    },
    sellerProfile: sellerProfile
      ? {
          shopName: sellerProfile.shopName,
          about: sellerProfile.about,
          payoutStatus: sellerProfile.payoutStatus,
          createdAt: sellerProfile.createdAt,
          updatedAt: sellerProfile.updatedAt,
        }
      : null,
    addresses: addresses.map(({ userId: _userId, ...address }) => address),
    sessions: sessions.map((session) => ({
      id: session.id,
      userAgent: session.userAgent,
      ip: session.ip,
      createdAt: session.createdAt,
      lastUsedAt: session.lastUsedAt,
      expiresAt: session.expiresAt,
      revokedAt: session.revokedAt,
      revokedReason: session.revokedReason,
    })),
    notifications: inbox.items.map((item) => ({
      id: item.id,
      template: item.template,
      title: item.title,
      body: item.body,
      data: item.data,
      readAt: item.readAt,
      createdAt: item.createdAt,
    })),
    avatarJobs: avatarJobs.map(({ userId: _userId, ...job }) => job),
    auditLog: audit.map((entry) => ({
      id: entry.id,
      action: entry.action,
      before: entry.before,
      after: entry.after,
      createdAt: entry.createdAt,
    })),
  };
}

/**
 * Erases the account (GDPR art. 17) in one transaction: personal fields are anonymized, addresses,
 * avatar jobs and pending email links deleted, the seller's "about" blanked, every session revoked.
 * The row itself stays (status `deleted`) so records that must outlive the account keep a valid
 * reference: orders, payments, refunds and payouts (none exist yet) must keep their rows and point
 * at this anonymized user, never cascade-delete with it. The email is replaced, so it can register
 * again. In-app notifications belong to the notify module and are left as they are.
 */
export async function deleteMyAccount(
  context: AccountsContext,
  options: { userId: string; password?: string; requestId: string | null },
): Promise<void> {
  const { db, clock, storage, logger } = context.services;
  const user = await findUserById(db, options.userId);
  if (!user || user.status === 'deleted') throw new AppError('not_found', 'No such account');
  if (user.passwordHash) {
    if (!options.password) {
      throw new AppError('validation_failed', 'Enter your password to delete your account', {
        fields: [{ field: 'body.password', message: 'is required for an account with a password' }],
      });
    }
    // Shares the sign-in lockout: a stolen access token must not become a password oracle.
    const counter = context.loginFailures.account;
    await counter.assertNotLocked(db, user.email);
    // Hashing is slow: done before the transaction, which on PGlite holds the only connection.
    if (!(await context.passwords.verify(user.passwordHash, options.password))) {
      await counter.recordFailure(db, user.email);
      throw new AppError('invalid_credentials', 'The password is wrong');
    }
  }

  const outcome = await db.transaction(async (tx) => {
    const now = clock.now();
    const locked = await lockUserById(tx, user.id);
    if (!locked || locked.status === 'deleted') throw new AppError('not_found', 'No such account');
    if (locked.roles.includes('admin') && locked.status === 'active') {
      await assertAnotherActiveAdmin(tx, locked.id);
    }
    const addressesDeleted = await deleteUserAddresses(tx, locked.id);
    // Deleting the jobs also stops one still running from setting an avatar afterwards: its
    // finishAvatarJob finds no row in progress, so it never touches the user.
    const imageKeys = await deleteUserAvatarJobs(tx, locked.id);
    await deleteUserTokens(tx, locked.id);
    const sellerProfileBlanked = await blankSellerAbout(tx, locked.id);
    const revoked = await revokeUserSessions(tx, locked.id, 'account deleted', now);
    await updateUser(tx, locked.id, {
      email: `deleted-${randomUUID()}@deleted.invalid`,
      emailVerifiedAt: null,
      displayName: 'Deleted user',
      bio: '',
      phone: null,
      avatarKey: null,
      googleSubject: null,
      passwordHash: null,
      status: 'deleted',
      deletedAt: now,
    });
    // No personal data in the audit row: it would survive the erasure it records.
    await recordAudit(tx, {
      actorId: locked.id,
      action: 'user.delete',
      targetType: 'user',
      targetId: locked.id,
      before: { status: locked.status },
      after: { status: 'deleted', addressesDeleted, sessionsRevoked: revoked.length, sellerProfileBlanked },
      requestId: options.requestId,
    });
    return { revoked, storageKeys: [...(locked.avatarKey ? [locked.avatarKey] : []), ...imageKeys] };
  });

  for (const sessionId of outcome.revoked) context.verifier.forget(sessionId);
  // Files go after the commit (a rolled-back erasure keeps them); a failure leaves an orphan, logged.
  for (const key of new Set(outcome.storageKeys)) {
    await storage.delete(key).catch((error: unknown) => {
      logger.warn({ err: error, key }, 'could not delete a deleted account’s file');
    });
  }
}
