import Type from 'typebox';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import { TokenResponse, toTokenResponse } from './accounts.schemas.ts';
import { signInWithGoogle } from './google-signin.ts';

/** The answer of every sign-in, plus whether this one created the account. */
export const GoogleSignInResponse = Type.Object(
  {
    ...TokenResponse.properties,
    created: Type.Boolean({ description: 'True when this sign-in created the account' }),
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
          id: '9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b',
          email: 'emily.carter@gmail.com',
          emailVerified: true,
          displayName: 'Emily Carter',
          roles: ['buyer'],
          locale: 'en',
          timeZone: 'America/Los_Angeles',
          bio: '',
          phone: null,
          hasAvatar: false,
          hasPassword: false,
          googleLinked: true,
          createdAt: '2026-11-21T10:00:00.000Z',
        },
        created: true,
      },
    ],
  },
);

export function registerGoogleRoutes(app: AppInstance, context: AccountsContext): void {
  app.post(
    '/api/auth/google',
    {
      config: { access: access.public('sign-in') },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with Google',
        description:
          'Takes the ID token from Google Identity Services and the nonce the client generated for ' +
          'it. Signs in the account linked to that Google account, else links the account with the ' +
          'same email (409 google_link_requires_verification when it has a password and an ' +
          'unverified email), else creates one. 400 google_signin_disabled without GOOGLE_CLIENT_ID.',
        body: Type.Object(
          {
            idToken: Type.String({ minLength: 1, maxLength: 8192 }),
            nonce: Type.String({ minLength: 1, maxLength: 512 }),
          },
          {
            examples: [
              {
                idToken:
                  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjZmNzI1NDEwMWY1NmU0MWNmMzVjOTkyNmRlODRhMmQ1NTJiNGM2ZjEiLCJ0eXAiOiJKV1QifQ…',
                nonce: 'q2VfR8tLx0Nm4Zp7Wc1s',
              },
            ],
          },
        ),
        response: { 200: GoogleSignInResponse },
      },
    },
    async (request) => {
      const { tokens, user, created } = await signInWithGoogle(context, {
        idToken: request.body.idToken,
        nonce: request.body.nonce,
        client: { userAgent: request.headers['user-agent'], ip: request.ip },
      });
      return { ...toTokenResponse({ ...tokens, user }), created };
    },
  );
}
