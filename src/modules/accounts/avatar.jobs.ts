import { createHash } from 'node:crypto';
import Type from 'typebox';
import type { Config } from '../../platform/config/config.ts';
import { defineJob } from '../../platform/jobs/define-job.ts';
import { isPermanentError } from '../../platform/jobs/jobs.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  type AvatarGeneratorKind,
  type AvatarJob,
  finishAvatarJob,
  markAvatarJobRunning,
} from './avatar.repo.ts';
import { type AvatarErrorCode, avatarErrorView } from './avatar.schemas.ts';
import { type AvatarGenerator, isAvatarGenerationError } from './providers/avatar-generator.port.ts';
import { createLocalAvatarGenerator } from './providers/local-avatar.provider.ts';
import { findUserById, updateUser } from './users.repo.ts';

/** Attempts after the first. A user is waiting: a few quick retries, then a final status. */
export const AVATAR_RETRY_LIMIT = 2;
const OPENAI_TIMEOUT_MS = 120_000;

export function avatarGeneratorKind(config: Config): AvatarGeneratorKind {
  return config.openai.apiKey ? 'openai' : 'local';
}

const generators = new WeakMap<PlatformServices, Promise<AvatarGenerator>>();

/**
 * One generator (one OpenAI client, one connection pool) per process, picked by OPENAI_API_KEY.
 * The OpenAI SDK is imported only when a key is configured.
 */
export function avatarGeneratorFor(services: PlatformServices): Promise<AvatarGenerator> {
  let generator = generators.get(services);
  if (!generator) {
    const { apiKey, baseUrl, imageModel } = services.config.openai;
    generator = apiKey
      ? import('./providers/openai-avatar.provider.ts').then(({ createOpenAiAvatarGenerator }) =>
          createOpenAiAvatarGenerator({ apiKey, baseUrl, model: imageModel, timeoutMs: OPENAI_TIMEOUT_MS }),
        )
      : Promise.resolve(createLocalAvatarGenerator());
    generators.set(services, generator);
  }
  return generator;
}

/** Same user and style → same seed → the same local avatar, byte for byte. */
export function avatarSeed(userId: string, style: string): string {
  return createHash('sha256').update(`avatar:${userId}\n${style}`).digest('hex');
}

export function avatarKeyFor(job: Pick<AvatarJob, 'id' | 'userId'>, contentType: string): string {
  return `avatars/${job.userId}/${job.id}.${contentType === 'image/png' ? 'png' : 'svg'}`;
}

/** Events are a nudge after the commit; a client that missed one polls the status endpoint. */
export async function announceAvatarFailed(services: PlatformServices, job: AvatarJob): Promise<void> {
  await services.hub.publish(`user:${job.userId}`, {
    type: 'avatar.failed',
    data: { jobId: job.id, error: avatarErrorView(job.error) },
  });
}

const GeneratePayload = Type.Object({ avatarJobId: Type.String({ format: 'uuid' }) });

/**
 * Generates the image, stores it, makes it the user's avatar and pushes `avatar.ready` to
 * `user:<id>`. Every job reaches one final status the user can see: on a permanent error (content
 * refused, bad credentials) or on the last attempt it is marked failed and `avatar.failed` is
 * pushed, then the error is rethrown so the runtime dead-letters it for operators.
 */
export const generateAvatarJob = defineJob(
  'accounts.avatar-generate',
  GeneratePayload,
  async ({ payload, attempt, claim, services, logger }) => {
    const { db, clock, storage } = services;
    const generator = await avatarGeneratorFor(services);
    const job = await markAvatarJobRunning(db, payload.avatarJobId, generator.kind);
    // Already finished (a redelivery after success, or failed as timed out): nothing left to do.
    if (!job) return;

    let imageKey: string;
    try {
      const user = await findUserById(db, job.userId);
      const image = await generator.generate({
        prompt: job.prompt,
        userId: job.userId,
        seed: avatarSeed(job.userId, job.prompt),
        displayName: user?.displayName ?? '',
      });
      imageKey = avatarKeyFor(job, image.contentType);
      // Outside the transaction: a slow upload must not hold a connection (or PGlite's only one).
      await storage.put(imageKey, image.bytes, {
        contentType: image.contentType,
        contentLength: image.bytes.length,
      });
    } catch (error) {
      await failIfFinal(services, job, error, attempt, logger);
      throw error;
    }

    const outcome = await db.transaction(async (tx) => {
      // An earlier delivery committed this job's effect (same job, same key): leave it be.
      if (!(await claim(tx))) return 'done-before' as const;
      const row = await finishAvatarJob(tx, job.id, {
        status: 'succeeded',
        imageKey,
        finishedAt: clock.now(),
      });
      if (!row) return 'gone' as const;
      await updateUser(tx, job.userId, { avatarKey: imageKey });
      return 'succeeded' as const;
    });
    if (outcome === 'gone') {
      // Timed out meanwhile, or the account was deleted (its jobs with it): keep no orphan image.
      await storage.delete(imageKey).catch((error: unknown) => {
        logger.warn({ err: error, imageKey }, 'could not delete an unused avatar image');
      });
      return;
    }
    if (outcome !== 'succeeded') return;
    const { url } = await storage.presignDownload({ key: imageKey });
    await services.hub.publish(`user:${job.userId}`, {
      type: 'avatar.ready',
      data: { jobId: job.id, avatarUrl: url },
    });
  },
  {
    retryLimit: AVATAR_RETRY_LIMIT,
    retryDelaySeconds: 2,
    retryDelayMaxSeconds: 30,
    // Above two OpenAI calls (the SDK's one retry) plus its backoff, so a slow generation is not
    // handed to a second worker meanwhile.
    expireInSeconds: 360,
  },
);

async function failIfFinal(
  services: PlatformServices,
  job: AvatarJob,
  error: unknown,
  attempt: number,
  logger: PlatformServices['logger'],
): Promise<void> {
  const permanent = isPermanentError(error);
  const vendorCode = isAvatarGenerationError(error) ? error.code : 'internal';
  // These need an operator (a key, a model name, billing), not a retry by the user.
  if (['auth_failed', 'invalid_request', 'quota_exhausted'].includes(vendorCode)) {
    logger.error({ err: error, avatarJobId: job.id }, 'avatar generator is misconfigured');
  }
  if (!permanent && attempt < AVATAR_RETRY_LIMIT) return;
  const code: AvatarErrorCode = vendorCode === 'content_rejected' ? 'content_rejected' : 'generation_failed';
  try {
    const failed = await finishAvatarJob(services.db, job.id, {
      status: 'failed',
      error: code,
      finishedAt: services.clock.now(),
    });
    if (failed) await announceAvatarFailed(services, failed);
  } catch (markError) {
    // The status endpoint times the job out later, so the user still gets a final answer.
    logger.error({ err: markError, avatarJobId: job.id }, 'could not mark the avatar job failed');
  }
}
