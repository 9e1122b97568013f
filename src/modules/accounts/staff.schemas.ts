import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';
import { RoleSchema, toUserView } from './accounts.schemas.ts';
import { ROLES } from './accounts.tables.ts';
import type { SellerProfile, User } from './users.repo.ts';

export { RoleSchema };
export const UserStatusSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('deactivated'),
  Type.Literal('deleted'),
]);

/** A seller as `AdminUserView` shows her; reused by the examples of the schemas that embed it. */
const ADMIN_USER_EXAMPLE = {
  id: '7c1e2f4a-9b3d-4e6f-8a2c-5d7b9e1f3a64',
  email: 'ayesha.khan@example.com',
  emailVerifiedAt: '2026-11-20T08:20:00.000Z',
  displayName: 'Ayesha Khan',
  roles: ['buyer', 'seller'],
  status: 'active',
  locale: 'en',
  timeZone: 'Asia/Karachi',
  bio: 'Weaver and textile seller from Lahore.',
  phone: '+923001234567',
  hasAvatar: true,
  hasPassword: true,
  googleLinked: false,
  createdAt: '2026-11-20T08:15:00.000Z',
  updatedAt: '2026-11-22T06:30:00.000Z',
  deletedAt: null,
};

const ADMIN_SELLER_PROFILE_EXAMPLE = {
  shopName: 'Lahore Looms',
  about: 'Hand-woven textiles',
  payoutStatus: 'not_started',
  createdAt: '2026-11-22T06:30:00.000Z',
  updatedAt: '2026-11-22T06:30:00.000Z',
};

/** A user as staff see it: status and timestamps, never the password hash or the Google subject. */
export const AdminUserView = Type.Object(
  {
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
  },
  { examples: [ADMIN_USER_EXAMPLE] },
);
export type AdminUserViewT = Static<typeof AdminUserView>;

/** The user's own view plus what only staff see (status, exact times). */
export function toAdminUserView(user: User): AdminUserViewT {
  const { emailVerified: _verified, ...shared } = toUserView(user);
  return {
    ...shared,
    emailVerifiedAt: user.emailVerifiedAt,
    status: user.status,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    deletedAt: user.deletedAt,
  };
}

export const AdminSellerProfileView = Type.Object(
  {
    shopName: Type.String(),
    about: Type.String(),
    payoutStatus: Type.String(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { examples: [ADMIN_SELLER_PROFILE_EXAMPLE] },
);

export const AdminUserDetail = Type.Object(
  {
    user: AdminUserView,
    sellerProfile: Type.Union([AdminSellerProfileView, Type.Null()]),
    openSessions: Type.Integer({ description: 'Sessions not revoked (some may have expired)' }),
  },
  { examples: [{ user: ADMIN_USER_EXAMPLE, sellerProfile: ADMIN_SELLER_PROFILE_EXAMPLE, openSessions: 2 }] },
);

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

export const UserList = Type.Object(
  {
    items: Type.Array(AdminUserView),
    nextAfter: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `after` for the next page; null on the last page',
    }),
  },
  {
    examples: [
      {
        items: [
          ADMIN_USER_EXAMPLE,
          {
            id: '4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11',
            email: 'minji@example.com',
            emailVerifiedAt: '2026-11-21T10:05:00.000Z',
            displayName: 'Minji',
            roles: ['buyer'],
            status: 'active',
            locale: 'ko',
            timeZone: 'Asia/Seoul',
            bio: '',
            phone: null,
            hasAvatar: false,
            hasPassword: true,
            googleLinked: false,
            createdAt: '2026-11-21T10:00:00.000Z',
            updatedAt: '2026-11-21T10:05:00.000Z',
            deletedAt: null,
          },
        ],
        nextAfter: 'minji@example.com',
      },
    ],
  },
);

export const UserIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const DeactivateBody = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why; kept in the audit log' }),
  },
  { examples: [{ reason: 'Counterfeit listings reported by three buyers (tickets 4821, 4833, 4840)' }] },
);

export const SetRolesBody = Type.Object(
  {
    roles: Type.Array(RoleSchema, { minItems: 1, maxItems: ROLES.length * 2 }),
  },
  { examples: [{ roles: ['buyer', 'seller'] }] },
);
