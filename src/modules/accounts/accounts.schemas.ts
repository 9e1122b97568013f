import Type, { type Static } from 'typebox';
import { DateTime } from '../../platform/http/schemas.ts';
import type { SellerProfile, User } from './users.repo.ts';

export const Email = Type.String({ format: 'email', maxLength: 254, examples: ['minji@example.com'] });
/** Length only: long passphrases beat composition rules (NIST SP 800-63B). */
export const Password = Type.String({
  minLength: 10,
  maxLength: 200,
  examples: ['correct horse battery staple'],
});
export const RoleSchema = Type.Union([
  Type.Literal('buyer'),
  Type.Literal('seller'),
  Type.Literal('staff'),
  Type.Literal('admin'),
]);
export const Locale = Type.Union([Type.Literal('en'), Type.Literal('ko')]);
export const CaptchaToken = Type.Optional(
  Type.String({
    maxLength: 2048,
    description: 'Cloudflare Turnstile token; required when Turnstile is configured',
  }),
);

/** A signed-in buyer as `UserView` shows her; reused by the examples of the schemas that embed it. */
export const USER_VIEW_EXAMPLE = {
  id: '4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11',
  email: 'minji@example.com',
  emailVerified: true,
  displayName: 'Minji',
  roles: ['buyer'],
  locale: 'ko',
  timeZone: 'Asia/Seoul',
  bio: '',
  phone: null,
  hasAvatar: false,
  hasPassword: true,
  googleLinked: false,
  createdAt: '2026-11-21T10:00:00.000Z',
};

export const UserView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    emailVerified: Type.Boolean(),
    displayName: Type.String(),
    roles: Type.Array(RoleSchema),
    locale: Locale,
    timeZone: Type.String(),
    bio: Type.String(),
    phone: Type.Union([Type.String(), Type.Null()]),
    hasAvatar: Type.Boolean(),
    hasPassword: Type.Boolean(),
    googleLinked: Type.Boolean(),
    createdAt: DateTime,
  },
  { examples: [USER_VIEW_EXAMPLE] },
);
export type UserViewT = Static<typeof UserView>;

export function toUserView(user: User): UserViewT {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    displayName: user.displayName,
    roles: user.roles,
    locale: user.locale,
    timeZone: user.timeZone,
    bio: user.bio,
    phone: user.phone,
    hasAvatar: user.avatarKey !== null,
    hasPassword: user.passwordHash !== null,
    googleLinked: user.googleSubject !== null,
    createdAt: user.createdAt.toISOString(),
  };
}

export const SellerProfileView = Type.Object(
  {
    shopName: Type.String(),
    about: Type.String(),
    payoutStatus: Type.String(),
    updatedAt: DateTime,
  },
  {
    examples: [
      {
        shopName: 'Lahore Looms',
        about: 'Hand-woven textiles',
        payoutStatus: 'not_started',
        updatedAt: '2026-11-22T06:30:00.000Z',
      },
    ],
  },
);

export function toSellerProfileView(profile: SellerProfile): Static<typeof SellerProfileView> {
  return {
    shopName: profile.shopName,
    about: profile.about,
    payoutStatus: profile.payoutStatus,
    updatedAt: profile.updatedAt,
  };
}

export const TokenResponse = Type.Object(
  {
    accessToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
    refreshToken: Type.String({ description: 'Opaque; single use: each refresh returns a new one' }),
    refreshTokenExpiresAt: DateTime,
    user: UserView,
  },
  {
    examples: [
      {
        accessToken: 'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9…',
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshToken: 'hT3k…',
        refreshTokenExpiresAt: '2026-12-21T10:00:00.000Z',
        user: {
          id: '4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11',
          email: 'minji@example.com',
          emailVerified: false,
          displayName: 'Minji',
          roles: ['buyer'],
          locale: 'ko',
          timeZone: 'UTC',
          bio: '',
          phone: null,
          hasAvatar: false,
          hasPassword: true,
          googleLinked: false,
          createdAt: '2026-11-21T10:00:00.000Z',
        },
      },
    ],
  },
);

export function toTokenResponse(signedIn: {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: User;
}): Static<typeof TokenResponse> {
  return {
    accessToken: signedIn.accessToken,
    tokenType: 'Bearer',
    expiresIn: signedIn.expiresIn,
    refreshToken: signedIn.refreshToken,
    refreshTokenExpiresAt: signedIn.refreshTokenExpiresAt,
    user: toUserView(signedIn.user),
  };
}
