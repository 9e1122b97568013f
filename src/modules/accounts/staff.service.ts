import { recordAudit } from '../../platform/audit/audit.ts';
import type { DbOrTx, Tx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import { listOpenSessionIds } from './account-data.repo.ts';
import type { AccountsContext } from './accounts.context.ts';
import { ROLES, type Role, type UserStatus } from './accounts.tables.ts';
import { countOpenSessions, revokeUserSessions } from './sessions.repo.ts';
import {
  findSellerProfile,
  findUserById,
  lockUserById,
  type SellerProfile,
  searchUsers,
  type User,
  updateUser,
} from './users.repo.ts';

registerErrorCodes({
  /** Staff tools refuse to act on the caller's own account (deactivate, drop own admin role). */
  cannot_target_self: 409,
  /** The account was deleted (anonymized); staff tools cannot change it any more. */
  user_deleted: 409,
});

/** Who performs a staff action: the signed-in user (roles are re-read inside the transaction). */
export interface StaffActor {
  readonly userId: string;
}

interface TargetedAction {
  readonly actor: StaffActor;
  readonly userId: string;
  readonly requestId: string | null;
}

const isAdmin = (roles: readonly string[]) => roles.includes('admin');
const isStaff = (roles: readonly string[]) => roles.includes('staff') || roles.includes('admin');

/**
 * Locks the actor's and the target's rows in id order (two actions on the same pair never
 * deadlock) and re-checks the actor inside the transaction: a token's roles may be a few seconds
 * stale, and two admins demoting each other at once must not both succeed.
 */
async function lockActorAndTarget(
  tx: Tx,
  actor: StaffActor,
  targetId: string,
  allowed: (roles: readonly string[]) => boolean,
): Promise<{ actorRow: User; target: User }> {
  const ids = [...new Set([actor.userId, targetId])].sort();
  const rows = new Map<string, User>();
  for (const id of ids) {
    const row = await lockUserById(tx, id);
    if (row) rows.set(id, row);
  }
  const actorRow = rows.get(actor.userId);
  if (actorRow?.status !== 'active' || !allowed(actorRow.roles)) {
    throw new AppError('forbidden', 'You do not have access to this resource');
  }
  const target = rows.get(targetId);
  if (!target) throw new AppError('not_found', 'No such user');
  if (target.status === 'deleted') throw new AppError('user_deleted', 'This account was deleted');
  return { actorRow, target };
}

/** Throws 409 `last_admin` unless an active admin other than `userId` remains. */
export async function assertAnotherActiveAdmin(db: DbOrTx, userId: string): Promise<void> {
  const admins = await searchUsers(db, { role: 'admin', status: 'active', limit: 2 });
  if (!admins.some((admin) => admin.id !== userId)) {
    throw new AppError('last_admin', 'This is the last active administrator; promote another one first');
  }
}

function forgetSessions(context: AccountsContext, sessionIds: readonly string[]): void {
  for (const id of sessionIds) context.verifier.forget(id);
}

export async function searchUsersForStaff(
  context: AccountsContext,
  options: { query?: string; role?: Role; status?: UserStatus; after?: string; limit: number },
): Promise<{ items: User[]; nextAfter: string | null }> {
  const items = await searchUsers(context.services.db, {
    limit: options.limit,
    ...(options.query ? { query: options.query } : {}),
    ...(options.role ? { role: options.role } : {}),
    ...(options.status ? { status: options.status } : {}),
    ...(options.after ? { afterEmail: options.after.toLowerCase() } : {}),
  });
  const last = items.at(-1);
  return { items, nextAfter: items.length === options.limit && last ? last.email : null };
}

export async function getUserForStaff(
  context: AccountsContext,
  options: { userId: string },
): Promise<{ user: User; sellerProfile: SellerProfile | undefined; openSessions: number }> {
  const { db } = context.services;
  const user = await findUserById(db, options.userId);
  if (!user) throw new AppError('not_found', 'No such user');
  const sellerProfile = await findSellerProfile(db, user.id);
  return { user, sellerProfile, openSessions: await countOpenSessions(db, user.id) };
}

/**
 * Deactivates an account: it can no longer sign in, every session is revoked, and its access
 * tokens stop working at once on this instance (within the verifier's cache time elsewhere).
 * Only an admin may deactivate an admin; nobody may deactivate themselves.
 */
export async function deactivateUser(
  context: AccountsContext,
  options: TargetedAction & { reason: string },
): Promise<User> {
  const { actor, userId, requestId, reason } = options;
  if (actor.userId === userId) {
    throw new AppError('cannot_target_self', 'You cannot deactivate your own account');
  }
  const { db, clock } = context.services;
  const outcome = await db.transaction(async (tx) => {
    const { actorRow, target } = await lockActorAndTarget(tx, actor, userId, isStaff);
    if (isAdmin(target.roles) && !isAdmin(actorRow.roles)) {
      throw new AppError('forbidden', 'Only an administrator can deactivate an administrator');
    }
    if (target.status === 'deactivated') return { user: target, revoked: [] as string[] };
    if (isAdmin(target.roles)) await assertAnotherActiveAdmin(tx, target.id);
    const now = clock.now();
    const user = (await updateUser(tx, target.id, { status: 'deactivated' }))!;
    const revoked = await revokeUserSessions(tx, target.id, 'account deactivated by staff', now);
    await recordAudit(tx, {
      actorId: actor.userId,
      action: 'user.deactivate',
      targetType: 'user',
      targetId: target.id,
      before: { status: target.status },
      after: { status: user.status, reason, revokedSessions: revoked.length },
      requestId,
    });
    return { user, revoked };
  });
  forgetSessions(context, outcome.revoked);
  return outcome.user;
}

/** Lets a deactivated account sign in again. Its old sessions stay revoked. */
export async function reactivateUser(context: AccountsContext, options: TargetedAction): Promise<User> {
  const { actor, userId, requestId } = options;
  if (actor.userId === userId) {
    throw new AppError('cannot_target_self', 'You cannot reactivate your own account');
  }
  return context.services.db.transaction(async (tx) => {
    const { actorRow, target } = await lockActorAndTarget(tx, actor, userId, isStaff);
    if (isAdmin(target.roles) && !isAdmin(actorRow.roles)) {
      throw new AppError('forbidden', 'Only an administrator can reactivate an administrator');
    }
    if (target.status === 'active') return target;
    const user = (await updateUser(tx, target.id, { status: 'active' }))!;
    await recordAudit(tx, {
      actorId: actor.userId,
      action: 'user.reactivate',
      targetType: 'user',
      targetId: target.id,
      before: { status: target.status },
      after: { status: user.status },
      requestId,
    });
    return user;
  });
}

/** Roles in their canonical order, without duplicates. */
export function normalizeRoles(roles: readonly Role[]): Role[] {
  return ROLES.filter((role) => roles.includes(role));
}

/**
 * Replaces a user's roles (admins only). Removing the admin role from the last active admin is
 * refused with 409 `last_admin`; an admin removing their own admin role with 409
 * `cannot_target_self` (another admin must do it, so the organisation never locks itself out by a
 * slip). Other changes to one's own roles (becoming a seller) are allowed.
 */
export async function setUserRoles(
  context: AccountsContext,
  options: TargetedAction & { roles: readonly Role[] },
): Promise<User> {
  const { actor, userId, requestId } = options;
  const roles = normalizeRoles(options.roles);
  if (roles.length === 0) {
    throw new AppError('validation_failed', 'Give at least one role', {
      fields: [{ field: 'body.roles', message: 'must contain at least one role' }],
    });
  }
  const outcome = await context.services.db.transaction(async (tx) => {
    const { target } = await lockActorAndTarget(tx, actor, userId, isAdmin);
    const unchanged =
      target.roles.length === roles.length && roles.every((role) => target.roles.includes(role));
    if (unchanged) return { user: target, sessionIds: [] as string[] };
    const losesAdmin = isAdmin(target.roles) && !roles.includes('admin');
    if (losesAdmin && target.status === 'active') await assertAnotherActiveAdmin(tx, target.id);
    if (losesAdmin && target.id === actor.userId) {
      throw new AppError('cannot_target_self', 'You cannot remove your own admin role; ask another admin');
    }
    const user = (await updateUser(tx, target.id, { roles }))!;
    await recordAudit(tx, {
      actorId: actor.userId,
      action: 'user.set_roles',
      targetType: 'user',
      targetId: target.id,
      before: { roles: target.roles },
      after: { roles: user.roles },
      requestId,
    });
    return { user, sessionIds: await listOpenSessionIds(tx, target.id) };
  });
  // Roles are read from the database by the verifier: drop the cached ones so they apply now.
  forgetSessions(context, outcome.sessionIds);
  return outcome.user;
}
