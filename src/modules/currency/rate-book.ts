import { invert, multiply, parseDecimal, type Ratio } from './rate-math.ts';

/** One stored rate: `1 base = rate quote` on `asOf`, from `source` (a provider name or `manual`). */
export interface StoredRate {
  readonly source: string;
  readonly base: string;
  readonly quote: string;
  readonly asOf: string;
  readonly rate: string;
}

/** A rate from one currency to another, possibly the inverse of a stored pair or a cross rate. */
export interface ResolvedRate {
  readonly from: string;
  readonly to: string;
  /** Units of `to` per unit of `from`, exact. */
  readonly rate: Ratio;
  /** The oldest day among the rates used: the result is at least this fresh. */
  readonly asOf: string;
  /** The sources used, e.g. `ecb`, `manual`, `ecb+manual`. */
  readonly source: string;
  /** The stored rates it was computed from. */
  readonly legs: readonly StoredRate[];
}

export const MANUAL_SOURCE = 'manual';
/** Cross rates go through the providers' base first: every ECB (and bundled) rate is EUR-based. */
export const PIVOT_CURRENCY = 'EUR';

/**
 * Which row wins when two sources have a rate for the same pair and day (lower wins): staff
 * overrides, then the configured provider, then anything else (e.g. `local` rows left from before
 * a switch to the ECB).
 */
export type SourceRank = (source: string) => number;

export function sourceRank(providerName: string): SourceRank {
  return (source) => (source === MANUAL_SOURCE ? 0 : source === providerName ? 1 : 2);
}

interface Leg {
  readonly rate: Ratio;
  readonly row: StoredRate;
  readonly inverse: boolean;
}

interface Candidate {
  readonly legs: readonly Leg[];
  readonly asOf: string;
  readonly bestRank: number;
  readonly pivot: string;
}

const pairKey = (base: string, quote: string) => `${base}/${quote}`;

/** Newer first, then the preferred source. */
function better(a: StoredRate, b: StoredRate, rank: SourceRank): boolean {
  if (a.asOf !== b.asOf) return a.asOf > b.asOf;
  return rank(a.source) < rank(b.source);
}

export interface RateBook {
  /** Adds a row; it replaces the pair's current row when newer, or same-day from a preferred source. */
  put(row: StoredRate): void;
  /** Every currency that has at least one rate. */
  currencies(): string[];
  /**
   * The rate from `from` to `to`: the stored pair or its inverse, or a cross rate through one
   * intermediate currency (EUR first). Among the ways, the freshest wins (by its oldest leg); on
   * the same day one with a staff rate wins, then the direct one. Null when there is no way, and
   * for from = to (the caller answers the identity).
   */
  resolve(from: string, to: string): ResolvedRate | null;
}

/**
 * The rates in force on one day, one row per (base, quote), in memory: pairs are few (dozens),
 * so paths are searched here rather than in SQL.
 */
export function createRateBook(rank: SourceRank, rows: Iterable<StoredRate> = []): RateBook {
  const pairs = new Map<string, StoredRate>();
  const neighbours = new Map<string, Set<string>>();

  function link(a: string, b: string) {
    const set = neighbours.get(a) ?? new Set<string>();
    set.add(b);
    neighbours.set(a, set);
  }

  function put(row: StoredRate) {
    const key = pairKey(row.base, row.quote);
    const current = pairs.get(key);
    if (current && !better(row, current, rank)) return;
    pairs.set(key, row);
    link(row.base, row.quote);
    link(row.quote, row.base);
  }

  function leg(from: string, to: string): Leg | null {
    const direct = pairs.get(pairKey(from, to));
    const reverse = pairs.get(pairKey(to, from));
    if (direct && (!reverse || !better(reverse, direct, rank))) {
      return { rate: parseDecimal(direct.rate), row: direct, inverse: false };
    }
    if (reverse) return { rate: invert(parseDecimal(reverse.rate)), row: reverse, inverse: true };
    return null;
  }

  function candidate(legs: Leg[], pivot: string): Candidate {
    return {
      legs,
      pivot,
      asOf: legs.map((item) => item.row.asOf).reduce((a, b) => (a < b ? a : b)),
      bestRank: Math.min(...legs.map((item) => rank(item.row.source))),
    };
  }

  function preferred(a: Candidate, b: Candidate): Candidate {
    if (a.asOf !== b.asOf) return a.asOf > b.asOf ? a : b;
    if (a.bestRank !== b.bestRank) return a.bestRank < b.bestRank ? a : b;
    if (a.legs.length !== b.legs.length) return a.legs.length < b.legs.length ? a : b;
    if ((a.pivot === PIVOT_CURRENCY) !== (b.pivot === PIVOT_CURRENCY))
      return a.pivot === PIVOT_CURRENCY ? a : b;
    return a.pivot <= b.pivot ? a : b;
  }

  for (const row of rows) put(row);

  return {
    put,
    currencies: () => [...neighbours.keys()].sort(),
    resolve(from, to) {
      if (from === to) return null;
      const candidates: Candidate[] = [];
      const direct = leg(from, to);
      if (direct) candidates.push(candidate([direct], ''));
      for (const pivot of neighbours.get(from) ?? []) {
        if (pivot === to || !neighbours.get(pivot)?.has(to)) continue;
        const first = leg(from, pivot);
        const second = leg(pivot, to);
        if (first && second) candidates.push(candidate([first, second], pivot));
      }
      if (candidates.length === 0) return null;
      const best = candidates.reduce(preferred);
      const rate = best.legs.reduce<Ratio>((product, item) => multiply(product, item.rate), {
        num: 1n,
        den: 1n,
      });
      return {
        from,
        to,
        rate,
        asOf: best.asOf,
        source: [...new Set(best.legs.map((item) => item.row.source))].sort().join('+'),
        legs: best.legs.map((item) => item.row),
      };
    },
  };
}
