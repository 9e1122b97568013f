import type { DbOrTx } from '../../platform/db/types.ts';
import type { ReadCache } from './read-cache.ts';
import { lookUpWords, type WordLookup, type WordLookups } from './search.repo.ts';

/**
 * Vocabulary lookups through a read cache (one entry per word), so a search whose words were
 * looked up since the last catalog change skips that statement. The words of one search that
 * miss, and those of concurrent searches asked in the same tick, are looked up in one statement.
 * The vocabulary changes only through `products` writes, which notify the catalog channel the
 * cache follows.
 */
export function cachedWordLookups(db: DbOrTx, cache: ReadCache): WordLookups {
  let pending: { texts: string[]; found: Promise<Map<string, WordLookup>> } | undefined;
  const lookUpLater = (text: string): Promise<WordLookup | undefined> => {
    if (!pending) {
      const texts: string[] = [];
      // Runs once the caller's synchronous loop has asked for every word it needs.
      const found = Promise.resolve().then(() => {
        pending = undefined;
        return lookUpWords(db, texts);
      });
      pending = { texts, found };
    }
    const batch = pending;
    if (!batch.texts.includes(text)) batch.texts.push(text);
    return batch.found.then((found) => found.get(text));
  };
  return async (texts) => {
    const bodies = await Promise.all(
      texts.map((text) => cache.get(text, async () => JSON.stringify((await lookUpLater(text)) ?? null))),
    );
    const found = new Map<string, WordLookup>();
    texts.forEach((text, i) => {
      const lookup = JSON.parse((bodies[i] as Buffer).toString()) as WordLookup | null;
      if (lookup) found.set(text, lookup);
    });
    return found;
  };
}
