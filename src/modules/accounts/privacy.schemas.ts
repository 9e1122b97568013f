import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** Everything Caravan holds about the caller (GDPR art. 15/20), minus secrets such as token hashes. */
export const AccountExport = Type.Object({
  format: Type.Literal('caravan-account-export/1'),
  exportedAt: DateTime,
  profile: Type.Object({
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    emailVerifiedAt: NullableDateTime,
    displayName: Type.String(),
    roles: Type.Array(Type.String()),
    status: Type.String(),
    locale: Type.String(),
    timeZone: Type.String(),
    bio: Type.String(),
    phone: NullableString,
    avatarKey: NullableString,
    googleSubject: Type.Union([Type.String(), Type.Null()], { description: 'The linked Google account id' }),
    hasPassword: Type.Boolean(),
    passwordChangedAt: NullableDateTime,
    createdAt: DateTime,
    updatedAt: DateTime,
  }),
  sellerProfile: Type.Union([
    Type.Object({
      shopName: Type.String(),
      about: Type.String(),
      payoutStatus: Type.String(),
      createdAt: DateTime,
      updatedAt: DateTime,
    }),
    Type.Null(),
  ]),
  addresses: Type.Array(
    Type.Object({
      id: Type.String(),
      label: Type.String(),
      recipientName: Type.String(),
      phone: Type.String(),
      line1: Type.String(),
      line2: Type.String(),
      postalCode: Type.String(),
      countryCode: Type.String(),
      provinceId: Type.Integer(),
      cityId: Type.Union([Type.Integer(), Type.Null()]),
      cityName: Type.String(),
      isDefaultShipping: Type.Boolean(),
      createdAt: DateTime,
      updatedAt: DateTime,
    }),
  ),
  sessions: Type.Array(
    Type.Object({
      id: Type.String(),
      userAgent: NullableString,
      ip: NullableString,
      createdAt: DateTime,
      lastUsedAt: DateTime,
      expiresAt: DateTime,
      revokedAt: NullableDateTime,
      revokedReason: NullableString,
    }),
  ),
  notifications: Type.Array(
    Type.Object({
      id: Type.String(),
      template: Type.String(),
      title: Type.String(),
      body: Type.String(),
      data: Type.Record(Type.String(), Type.Unknown()),
      readAt: NullableDateTime,
      createdAt: DateTime,
    }),
  ),
  avatarJobs: Type.Array(
    Type.Object({
      id: Type.String(),
      prompt: Type.String(),
      status: Type.String(),
      generator: Type.String(),
      imageKey: NullableString,
      error: NullableString,
      createdAt: DateTime,
      finishedAt: NullableDateTime,
    }),
  ),
  auditLog: Type.Array(
    Type.Object({
      id: Type.Integer(),
      action: Type.String(),
      before: Type.Unknown(),
      after: Type.Unknown(),
      createdAt: DateTime,
    }),
    { description: 'Recorded changes to this account (who acted is not included)' },
  ),
});
export type AccountExportT = Static<typeof AccountExport>;

export const DeleteAccountBody = Type.Object({
  password: Type.Optional(
    Type.String({ maxLength: 200, description: 'Required when the account has a password' }),
  ),
  confirm: Type.Literal('DELETE', {
    description: 'The word DELETE, so a stray request cannot erase an account',
  }),
});
