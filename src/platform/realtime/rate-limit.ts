/**
 * Token bucket: a client may burst up to `perSecond` messages, then sustain `perSecond`. Time comes
 * in as `now` (milliseconds) so a test can freeze it and get an exact count.
 */
export interface TokenBucket {
  take(): boolean;
}

export function createTokenBucket(perSecond: number, now: () => number): TokenBucket {
  let tokens = perSecond;
  let last = now();
  return {
    take() {
      const current = now();
      tokens = Math.min(perSecond, tokens + (Math.max(0, current - last) / 1000) * perSecond);
      last = current;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
