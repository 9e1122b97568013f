import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import {
  AvatarJobAccepted,
  AvatarJobParams,
  AvatarJobView,
  CurrentAvatar,
  GenerateAvatarBody,
} from './avatar.schemas.ts';
import { avatarJobPath, getAvatarJob, getCurrentAvatar, requestAvatarGeneration } from './avatar.service.ts';

function requireUser(userId: string | undefined): string {
  if (!userId) throw new AppError('unauthenticated', 'Sign in to continue');
  return userId;
}

/** The current avatar, and AI generation (a job; `avatar.ready` / `avatar.failed` on `user:<id>`). */
export function registerAvatarRoutes(app: AppInstance, context: AccountsContext): void {
  const { services } = context;

  app.get(
    '/api/me/avatar',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: ['accounts'],
        summary: 'A signed, expiring download URL for my avatar (null when I have none)',
        response: { 200: CurrentAvatar },
      },
    },
    async (request) => getCurrentAvatar({ services, userId: requireUser(request.principal?.userId) }),
  );

  app.post(
    '/api/me/avatar/generate',
    {
      // Verified, not just signed in: each generation may be a paid vendor call, and the daily
      // quota is per account — with unverified sign-ups, fresh throwaway accounts would bypass it.
      config: { access: access.verified() },
      schema: {
        tags: ['accounts'],
        summary: 'Generate an AI avatar in the given style',
        description:
          'Queues a generation and answers 202 at once. The result arrives as `avatar.ready` or ' +
          '`avatar.failed` on the WebSocket channel `user:<id>`; clients that poll use `statusUrl`. ' +
          'One generation at a time per user (409 `avatar_job_in_progress`) and a daily quota ' +
          '(429 `avatar_quota_exceeded`, with Retry-After).',
        body: GenerateAvatarBody,
        response: { 202: AvatarJobAccepted },
      },
    },
    async (request, reply) => {
      const job = await requestAvatarGeneration({
        services,
        userId: requireUser(request.principal?.userId),
        style: request.body.style,
      });
      const statusUrl = avatarJobPath(job.id);
      return reply
        .status(202)
        .header('location', statusUrl)
        .send({ id: job.id, status: job.status, statusUrl });
    },
  );

  app.get(
    '/api/me/avatar/jobs/:id',
    {
      config: { access: access.owner('the user who asked for the avatar') },
      schema: {
        tags: ['accounts'],
        summary: 'The status of one of my avatar generations',
        params: AvatarJobParams,
        response: { 200: AvatarJobView },
      },
    },
    async (request) =>
      getAvatarJob({ services, userId: requireUser(request.principal?.userId), jobId: request.params.id }),
  );
}
