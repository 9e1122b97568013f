import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';
import { ROLES } from './accounts.tables.ts';
import type { SellerProfile, User } from './users.repo.ts';

export const RoleSchema = Type.Union([
  Type.Literal('buyer'),
  Type.Literal('seller'),
  Type.Literal('staff'),
  Type.Literal('admin'),
]);
export const UserStatusSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('deactivated'),
  Type.Literal('deleted'),
]);

/** A user as staff see it: status and timestamps, never the password hash or the Google subject. */
export const AdminUserView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  emailVerifiedAt: NullableDateTime,
  displayName: Type.String(),
  roles: Type.Array(RoleSchema),
  status: UserStatusSchema,
  locale: Type.String(),
  timeZone: Type.String(),
  bio: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  hasAvatar: Type.Boolean(),
  hasPassword: Type.Boolean(),
  googleLinked: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
  deletedAt: NullableDateTime,
});
export type AdminUserViewT = Static<typeof AdminUserView>;

export function toAdminUserView(user: User): AdminUserViewT {
  return {
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
    hasAvatar: user.avatarKey !== null,
    hasPassword: user.passwordHash !== null,
    googleLinked: user.googleSubject !== null,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    deletedAt: user.deletedAt,
  };
}

export const AdminSellerProfileView = Type.Object({
  shopName: Type.String(),
  about: Type.String(),
  payoutStatus: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
});

export const AdminUserDetail = Type.Object({
  user: AdminUserView,
  sellerProfile: Type.Union([AdminSellerProfileView, Type.Null()]),
  openSessions: Type.Integer({ description: 'Sessions not revoked (some may have expired)' }),
});

export function toAdminUserDetail(
  user: User,
  sellerProfile: SellerProfile | undefined,
  openSessions: number,
): Static<typeof AdminUserDetail> {
  return {
    user: toAdminUserView(user),
    sellerProfile: sellerProfile
      ? {
          shopName: sellerProfile.shopName,
          about: sellerProfile.about,
          payoutStatus: sellerProfile.payoutStatus,
          createdAt: sellerProfile.createdAt,
          updatedAt: sellerProfile.updatedAt,
        }
      : null,
    openSessions,
  };
}

export const UserSearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'Part of the email or display name' })),
  role: Type.Optional(RoleSchema),
  status: Type.Optional(UserStatusSchema),
  after: Type.Optional(
    Type.String({ maxLength: 320, description: 'Cursor: the email of the last user seen (nextAfter)' }),
  ),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

export const UserList = Type.Object({
  items: Type.Array(AdminUserView),
  nextAfter: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as `after` for the next page; null on the last page',
  }),
});

export const UserIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const DeactivateBody = Type.Object({
  reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why; kept in the audit log' }),
});

export const SetRolesBody = Type.Object({
  roles: Type.Array(RoleSchema, { minItems: 1, maxItems: ROLES.length * 2 }),
});
