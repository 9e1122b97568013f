import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import {
  Locale,
  SellerProfileView,
  toSellerProfileView,
  toUserView,
  USER_VIEW_EXAMPLE,
  UserView,
} from './accounts.schemas.ts';
import { getProfile, saveSellerProfile, updateProfile } from './profile.service.ts';

const tags = ['me'];
const Me = Type.Object(
  { user: UserView, sellerProfile: Type.Union([SellerProfileView, Type.Null()]) },
  {
    examples: [
      {
        user: {
          id: '7c1e2f4a-9b3d-4e6f-8a2c-5d7b9e1f3a64',
          email: 'ayesha.khan@example.com',
          emailVerified: true,
          displayName: 'Ayesha Khan',
          roles: ['buyer', 'seller'],
          locale: 'en',
          timeZone: 'Asia/Karachi',
          bio: 'Weaver and textile seller from Lahore.',
          phone: '+923001234567',
          hasAvatar: true,
          hasPassword: true,
          googleLinked: false,
          createdAt: '2026-11-20T08:15:00.000Z',
        },
        sellerProfile: {
          shopName: 'Lahore Looms',
          about: 'Hand-woven textiles',
          payoutStatus: 'not_started',
          updatedAt: '2026-11-22T06:30:00.000Z',
        },
      },
    ],
  },
);

function userIdOf(request: FastifyRequest): string {
  if (!request.principal) throw new AppError('unauthenticated', 'Sign in to continue');
  return request.principal.userId;
}

export function registerMeRoutes(app: AppInstance, context: AccountsContext): void {
  app.get(
    '/api/me',
    {
      config: { access: access.authenticated() },
      schema: { tags, summary: 'My account and, if I sell, my seller profile', response: { 200: Me } },
    },
    async (request) => {
      const { user, seller } = await getProfile(context, userIdOf(request));
      return { user: toUserView(user), sellerProfile: seller ? toSellerProfileView(seller) : null };
    },
  );

  app.patch(
    '/api/me',
    {
      config: { access: access.owner('the signed-in user (their own profile only)') },
      schema: {
        tags,
        summary: 'Change my profile',
        description:
          'Only displayName, bio, locale, timeZone and phone can change here. Any other field (id, email, roles, emailVerified…) is ignored: it is stripped before the handler sees it.',
        body: Type.Object(
          {
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
            bio: Type.Optional(Type.String({ maxLength: 2000 })),
            locale: Type.Optional(Locale),
            timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, examples: ['Asia/Seoul'] })),
            phone: Type.Optional(
              Type.Union([
                Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', description: 'E.164' }),
                Type.Null(),
              ]),
            ),
          },
          {
            additionalProperties: false,
            examples: [{ displayName: 'Minji K.', locale: 'ko', timeZone: 'Asia/Seoul' }],
          },
        ),
        response: {
          200: Type.Object(
            { user: UserView },
            { examples: [{ user: { ...USER_VIEW_EXAMPLE, displayName: 'Minji K.' } }] },
          ),
        },
      },
    },
    async (request) => ({ user: toUserView(await updateProfile(context, userIdOf(request), request.body)) }),
  );

  app.put(
    '/api/me/seller-profile',
    {
      config: { access: access.verified() },
      schema: {
        tags,
        summary: 'Open or edit my shop (makes me a seller as well)',
        body: Type.Object(
          {
            shopName: Type.String({ minLength: 1, maxLength: 80 }),
            about: Type.Optional(Type.String({ maxLength: 4000 })),
          },
          {
            additionalProperties: false,
            examples: [{ shopName: 'Lahore Looms', about: 'Hand-woven textiles' }],
          },
        ),
        response: { 200: Me },
      },
    },
    async (request) => {
      const { user, seller } = await saveSellerProfile(context, userIdOf(request), request.body);
      return { user: toUserView(user), sellerProfile: toSellerProfileView(seller) };
    },
  );
}
