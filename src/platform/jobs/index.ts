export {
  type CronDefinition,
  defineCron,
  defineJob,
  type JobContext,
  type JobDefinition,
} from './define-job.ts';
export { createJobs, deadLetterQueue, type EnqueueOptions, type Jobs } from './jobs.ts';
