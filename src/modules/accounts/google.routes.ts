import Type from 'typebox';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import { TokenResponse, toTokenResponse } from './accounts.schemas.ts';
import { signInWithGoogle } from './google-signin.ts';

/** The answer of every sign-in, plus whether this one created the account. */
export const GoogleSignInResponse = Type.Object({
  ...TokenResponse.properties,
  created: Type.Boolean({ description: 'True when this sign-in created the account' }),
});

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
        body: Type.Object({
          idToken: Type.String({ minLength: 1, maxLength: 8192 }),
          nonce: Type.String({ minLength: 1, maxLength: 512 }),
        }),
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
