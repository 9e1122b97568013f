import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);

/** Everything Caravan holds about the caller (GDPR art. 15/20), minus secrets such as token hashes. */
export const AccountExport = Type.Object(
  {
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
      googleSubject: Type.Union([Type.String(), Type.Null()], {
        description: 'The linked Google account id',
      }),
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
  },
  {
    examples: [
      {
        format: 'caravan-account-export/1',
        exportedAt: '2026-11-23T09:00:00.000Z',
        profile: {
          id: '4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11',
          email: 'minji@example.com',
          emailVerifiedAt: '2026-11-21T10:05:00.000Z',
          displayName: 'Minji',
          roles: ['buyer'],
          status: 'active',
          locale: 'ko',
          timeZone: 'Asia/Seoul',
          bio: '',
          phone: '+821012345678',
          avatarKey: 'avatars/4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11/0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90.png',
          googleSubject: null,
          hasPassword: true,
          passwordChangedAt: '2026-11-22T13:40:00.000Z',
          createdAt: '2026-11-21T10:00:00.000Z',
          updatedAt: '2026-11-22T13:40:00.000Z',
        },
        sellerProfile: null,
        addresses: [
          {
            id: '2f6a8c1e-4b3d-4a5f-9e7c-1d2b3a4c5e6f',
            label: 'Home',
            recipientName: 'Kim Minji',
            phone: '+821012345678',
            line1: '123 Teheran-ro, Gangnam-gu',
            line2: 'Apt 1203',
            postalCode: '06236',
            countryCode: 'KR',
            provinceId: 101,
            cityId: 10101,
            cityName: 'Seoul',
            isDefaultShipping: true,
            createdAt: '2026-11-21T10:20:00.000Z',
            updatedAt: '2026-11-21T10:20:00.000Z',
          },
        ],
        sessions: [
          {
            id: 'e4b7c2a9-6d1f-4c8e-b3a5-7f9d2e1c4b60',
            userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15',
            ip: '211.234.10.25',
            createdAt: '2026-11-22T13:40:00.000Z',
            lastUsedAt: '2026-11-23T08:58:00.000Z',
            expiresAt: '2026-12-22T13:40:00.000Z',
            revokedAt: null,
            revokedReason: null,
          },
        ],
        notifications: [
          {
            id: '5a9e3c7b-2d4f-4e1a-8b6c-0f3d5e7a9c21',
            template: 'accounts.password-changed',
            title: '비밀번호 변경됨',
            body: '다른 기기의 로그인이 해제되었습니다.',
            data: { name: 'Minji' },
            readAt: null,
            createdAt: '2026-11-22T13:40:00.000Z',
          },
        ],
        avatarJobs: [
          {
            id: '0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90',
            prompt: 'watercolor fox, warm autumn colours',
            status: 'succeeded',
            generator: 'openai',
            imageKey: 'avatars/4b0f9c0e-3c55-4f3e-9d8c-0b7f0c2b1a11/0d5c3a4e-8f1b-4c7e-a2d9-6b1e5f3c7a90.png',
            error: null,
            createdAt: '2026-11-21T11:00:00.000Z',
            finishedAt: '2026-11-21T11:00:12.000Z',
          },
        ],
        auditLog: [
          {
            id: 1017,
            action: 'user.reactivate',
            before: { status: 'deactivated' },
            after: { status: 'active' },
            createdAt: '2026-11-22T02:10:00.000Z',
          },
        ],
      },
    ],
  },
);
export type AccountExportT = Static<typeof AccountExport>;

export const DeleteAccountBody = Type.Object(
  {
    password: Type.Optional(
      Type.String({ maxLength: 200, description: 'Required when the account has a password' }),
    ),
    confirm: Type.Literal('DELETE', {
      description: 'The word DELETE, so a stray request cannot erase an account',
    }),
  },
  { examples: [{ password: 'correct horse battery staple', confirm: 'DELETE' }] },
);
