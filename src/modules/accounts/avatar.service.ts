import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { announceAvatarFailed, avatarGeneratorKind, generateAvatarJob } from './avatar.jobs.ts';
import {
  type AvatarJob,
  countAvatarJobsSince,
  countInProgressAvatarJobs,
  failStaleAvatarJobs,
  findAvatarJob,
  insertAvatarJob,
} from './avatar.repo.ts';
import { type AvatarJobView, avatarErrorView, type CurrentAvatar } from './avatar.schemas.ts';
import { findUserById, lockUserById } from './users.repo.ts';

registerErrorCodes({
  avatar_job_in_progress: 409,
  avatar_quota_exceeded: 429,
});

/** Generations per user per rolling 24 hours, whatever their outcome (each may cost a vendor call). */
export const AVATAR_DAILY_LIMIT = 10;
const DAY_MS = 24 * 3600 * 1000;
/**
 * A job still queued or running after this long lost its worker (three attempts of at most six
 * minutes each, plus backoff, fit inside): it is failed as timed out so the user is not blocked by
 * the one-at-a-time rule and sees a final status.
 */
export const AVATAR_STALE_AFTER_MS = 30 * 60 * 1000;

export function normalizeStyle(style: string): string {
  // Control characters would only confuse the vendor's prompt; runs of whitespace collapse to one.
  return style
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function avatarJobPath(id: string): string {
  return `/api/me/avatar/jobs/${id}`;
}

/**
 * Queues one generation. The row and the job commit together, so a job exists exactly when its
 * row does. The user row is locked first: two concurrent requests from one user serialise, and the
 * one-in-progress rule and the daily quota cannot both be passed twice.
 */
export async function requestAvatarGeneration(options: {
  services: PlatformServices;
  userId: string;
  style: string;
}): Promise<AvatarJob> {
  const { services, userId } = options;
  const style = normalizeStyle(options.style);
  if (!style) {
    throw new AppError('validation_failed', 'The request is invalid', {
      fields: [{ field: 'body.style', message: 'must not be blank' }],
    });
  }
  const now = services.clock.now();
  const { job, timedOut } = await services.db.transaction(async (tx) => {
    const user = await lockUserById(tx, userId);
    if (!user) throw new AppError('not_found', 'No such user');
    const timedOut = await failStaleAvatarJobs(tx, userId, new Date(now.getTime() - AVATAR_STALE_AFTER_MS), {
      error: 'timed_out',
      finishedAt: now,
    });
    if ((await countInProgressAvatarJobs(tx, userId)) > 0) {
      throw new AppError(
        'avatar_job_in_progress',
        'An avatar is already being generated; wait for it to finish',
      );
    }
    const recent = await countAvatarJobsSince(tx, userId, new Date(now.getTime() - DAY_MS));
    if (recent.count >= AVATAR_DAILY_LIMIT) {
      const retryAfter = recent.oldest
        ? Math.max(1, Math.ceil((recent.oldest.getTime() + DAY_MS - now.getTime()) / 1000))
        : DAY_MS / 1000;
      throw new AppError(
        'avatar_quota_exceeded',
        `At most ${AVATAR_DAILY_LIMIT} avatars a day; try again later`,
        {
          headers: { 'retry-after': String(retryAfter) },
          details: { limit: AVATAR_DAILY_LIMIT, retryAfterSeconds: retryAfter },
        },
      );
    }
    const job = await insertAvatarJob(tx, {
      userId,
      prompt: style,
      generator: avatarGeneratorKind(services.config),
      createdAt: now,
    });
    await services.jobs.enqueue(tx, generateAvatarJob, { avatarJobId: job.id }, { dedupeKey: job.id });
    return { job, timedOut };
  });
  for (const stale of timedOut) await announceAvatarFailed(services, stale);
  return job;
}

/** The owner's job with a signed URL when it succeeded; another user's id is a 404. */
export async function getAvatarJob(options: {
  services: PlatformServices;
  userId: string;
  jobId: string;
}): Promise<AvatarJobView> {
  const { services, userId, jobId } = options;
  let job = await findAvatarJob(services.db, userId, jobId);
  if (!job) throw new AppError('not_found', 'No such avatar job');
  const now = services.clock.now();
  if (isInProgress(job) && now.getTime() - job.createdAt.getTime() > AVATAR_STALE_AFTER_MS) {
    const cutoff = new Date(now.getTime() - AVATAR_STALE_AFTER_MS);
    for (const stale of await failStaleAvatarJobs(services.db, userId, cutoff, {
      error: 'timed_out',
      finishedAt: now,
    })) {
      await announceAvatarFailed(services, stale);
      if (stale.id === job.id) job = stale;
    }
    // Still in progress here means a worker finished it a moment ago: read what it wrote.
    if (isInProgress(job)) job = (await findAvatarJob(services.db, userId, jobId)) ?? job;
  }
  const avatarUrl =
    job.status === 'succeeded' && job.imageKey
      ? (await services.storage.presignDownload({ key: job.imageKey })).url
      : null;
  return {
    id: job.id,
    status: job.status,
    style: job.prompt,
    generator: job.generator,
    error: avatarErrorView(job.error),
    avatarUrl,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  };
}

export async function getCurrentAvatar(options: {
  services: PlatformServices;
  userId: string;
}): Promise<CurrentAvatar> {
  const { services, userId } = options;
  const user = await findUserById(services.db, userId);
  if (!user) throw new AppError('not_found', 'No such user');
  if (!user.avatarKey) return { avatarUrl: null, expiresAt: null };
  const download = await services.storage.presignDownload({ key: user.avatarKey });
  return { avatarUrl: download.url, expiresAt: download.expiresAt };
}

function isInProgress(job: AvatarJob): boolean {
  return job.status === 'queued' || job.status === 'running';
}
