import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import {
  CaptchaToken,
  Email,
  Locale,
  Password,
  TokenResponse,
  toTokenResponse,
  toUserView,
  USER_VIEW_EXAMPLE,
  UserView,
} from './accounts.schemas.ts';
import {
  changePassword,
  login,
  logout,
  register,
  requestPasswordReset,
  resendVerification,
  resetPassword,
  verifyEmail,
} from './auth.service.ts';
import { refreshSession } from './sessions.service.ts';

const NoContent = { 204: Type.Null({ description: 'Done' }) };
const Sent = Type.Object({ sent: Type.Literal(true) }, { examples: [{ sent: true }] });
const tags = ['auth'];

function clientOf(request: FastifyRequest) {
  return { userAgent: request.headers['user-agent'], ip: request.ip };
}

function principalOf(request: FastifyRequest) {
  if (!request.principal) throw new AppError('unauthenticated', 'Sign in to continue');
  return request.principal;
}

export function registerAuthRoutes(app: AppInstance, context: AccountsContext): void {
  app.post(
    '/api/auth/register',
    {
      config: { access: access.public('anyone may create an account') },
      schema: {
        tags,
        summary: 'Create an account and sign in',
        description:
          'The account starts unverified: a link is emailed, and ordering, bidding, listing, messaging and posting answer 403 email_not_verified until it is opened.',
        body: Type.Object(
          {
            email: Email,
            password: Password,
            displayName: Type.String({ minLength: 1, maxLength: 80 }),
            locale: Type.Optional(Locale),
            accountType: Type.Optional(
              Type.Union([Type.Literal('buyer'), Type.Literal('seller'), Type.Literal('both')], {
                default: 'buyer',
              }),
            ),
            shopName: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
            captchaToken: CaptchaToken,
          },
          {
            examples: [
              {
                email: 'minji@example.com',
                password: 'correct horse battery staple',
                displayName: 'Minji',
                locale: 'ko',
              },
            ],
          },
        ),
        response: { 201: TokenResponse },
      },
    },
    async (request, reply) => {
      await context.captcha.verify(context.captchaTokenFrom(request), request.ip);
      const body = request.body;
      const signedIn = await register(context, {
        email: body.email,
        password: body.password,
        displayName: body.displayName,
        ...(body.locale ? { locale: body.locale } : {}),
        ...(body.accountType ? { kind: body.accountType } : {}),
        ...(body.shopName ? { shopName: body.shopName } : {}),
        client: clientOf(request),
      });
      return reply.status(201).send(toTokenResponse(signedIn));
    },
  );

  app.post(
    '/api/auth/login',
    {
      config: { access: access.public('sign-in') },
      schema: {
        tags,
        summary: 'Sign in with email and password',
        description:
          'Failed attempts are counted per account and per client address; past the limit the answer is 429 too_many_attempts with Retry-After.',
        body: Type.Object(
          {
            email: Email,
            password: Type.String({ minLength: 1, maxLength: 200 }),
            captchaToken: CaptchaToken,
          },
          { examples: [{ email: 'minji@example.com', password: 'correct horse battery staple' }] },
        ),
        response: { 200: TokenResponse },
      },
    },
    async (request) => {
      await context.captcha.verify(context.captchaTokenFrom(request), request.ip);
      const signedIn = await login(context, {
        email: request.body.email,
        password: request.body.password,
        client: clientOf(request),
      });
      return toTokenResponse(signedIn);
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      config: { access: access.public('the refresh token is the credential') },
      schema: {
        tags,
        summary: 'Exchange a refresh token for new tokens (rotation)',
        description:
          'Each refresh token works once. Presenting one a second time revokes the whole session: 401 refresh_token_reused.',
        body: Type.Object(
          { refreshToken: Type.String({ minLength: 1, maxLength: 200 }) },
          { examples: [{ refreshToken: 'hT3k…' }] },
        ),
        response: { 200: TokenResponse },
      },
    },
    async (request) => {
      return toTokenResponse(await refreshSession(context, request.body.refreshToken));
    },
  );

  app.post(
    '/api/auth/logout',
    {
      config: { access: access.authenticated() },
      schema: { tags, summary: 'End this session (its refresh token stops working)', response: NoContent },
    },
    async (request, reply) => {
      await logout(context, principalOf(request).sessionId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/auth/verify-email',
    {
      config: { access: access.public('the emailed token is the credential') },
      schema: {
        tags,
        summary: 'Confirm an email address with the emailed token',
        body: Type.Object(
          { token: Type.String({ minLength: 10, maxLength: 200 }) },
          { examples: [{ token: 'Jq3vX9kR2mT7wLpZ4sN8bY1cF6hD0gAeU5iO2rKxVtQ' }] },
        ),
        response: { 200: Type.Object({ user: UserView }, { examples: [{ user: USER_VIEW_EXAMPLE }] }) },
      },
    },
    async (request) => ({ user: toUserView(await verifyEmail(context, request.body.token)) }),
  );

  app.post(
    '/api/auth/verify-email/resend',
    {
      config: { access: access.authenticated() },
      schema: {
        tags,
        summary: 'Email a new verification link',
        description: 'At most one per EMAIL_RESEND_INTERVAL_SECONDS: 429 resend_too_soon with Retry-After.',
        response: { 202: Sent },
      },
    },
    async (request, reply) => {
      await resendVerification(context, principalOf(request).userId);
      return reply.status(202).send({ sent: true as const });
    },
  );

  app.post(
    '/api/auth/password/forgot',
    {
      config: { access: access.public('password recovery') },
      schema: {
        tags,
        summary: 'Email a single-use password reset link',
        description:
          'Answers 202 whether or not the email has an account, so it cannot be used to find accounts.',
        body: Type.Object(
          { email: Email, captchaToken: CaptchaToken },
          { examples: [{ email: 'minji@example.com' }] },
        ),
        response: { 202: Sent },
      },
    },
    async (request, reply) => {
      await context.captcha.verify(context.captchaTokenFrom(request), request.ip);
      await requestPasswordReset(context, request.body.email);
      return reply.status(202).send({ sent: true as const });
    },
  );

  app.post(
    '/api/auth/password/reset',
    {
      config: { access: access.public('the emailed token is the credential') },
      schema: {
        tags,
        summary: 'Set a new password with the emailed token; signs out every session',
        body: Type.Object(
          { token: Type.String({ minLength: 10, maxLength: 200 }), newPassword: Password },
          {
            examples: [
              {
                token: 'Jq3vX9kR2mT7wLpZ4sN8bY1cF6hD0gAeU5iO2rKxVtQ',
                newPassword: 'hangang river at midnight',
              },
            ],
          },
        ),
        response: NoContent,
      },
    },
    async (request, reply) => {
      await resetPassword(context, request.body.token, request.body.newPassword);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/me/password',
    {
      config: { access: access.authenticated() },
      schema: {
        tags,
        summary: 'Change my password; signs out my other sessions',
        body: Type.Object(
          {
            currentPassword: Type.String({ minLength: 1, maxLength: 200 }),
            newPassword: Password,
          },
          {
            examples: [
              { currentPassword: 'correct horse battery staple', newPassword: 'hangang river at midnight' },
            ],
          },
        ),
        response: NoContent,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await changePassword(context, {
        userId: principal.userId,
        sessionId: principal.sessionId,
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
      });
      return reply.status(204).send(null);
    },
  );
}
