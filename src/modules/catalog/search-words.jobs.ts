import Type from 'typebox';
import { defineCron, defineJob } from '../../platform/jobs/index.ts';
import { pruneSearchWords } from './search.repo.ts';

/**
 * Drops the search vocabulary's words that only archived, deleted or renamed products had (the
 * trigger only ever adds words). Daily, at a quiet hour: the run holds back product writes that
 * add words for as long as its delete takes.
 */
export const pruneSearchWordsJob = defineJob(
  'catalog.prune-search-words',
  Type.Object({}),
  async ({ services, logger }) => {
    const removed = await services.db.transaction((tx) => pruneSearchWords(tx));
    if (removed > 0) logger.info({ removed }, 'pruned search vocabulary');
  },
  // A failed run is simply repeated by the next day's schedule.
  { retryLimit: 0 },
);

export const pruneSearchWordsCron = defineCron(
  'catalog.prune-search-words',
  '23 3 * * *',
  pruneSearchWordsJob,
  {},
);
