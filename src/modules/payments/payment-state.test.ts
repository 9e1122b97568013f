import { describe, expect, it } from 'vitest';
import { deriveStatus, mergeEvent, type PaymentFacts } from './payment-state.ts';
import type { ProviderEvent } from './providers/payment-provider.port.ts';

type Fact = Pick<
  ProviderEvent,
  'action' | 'amountMinor' | 'occurredAt' | 'refund' | 'disputeRef' | 'failureCode'
>;

const EMPTY: PaymentFacts = {
  authorizedAt: null,
  capturedMinor: 0,
  refundedMinor: 0,
  failedAt: null,
  canceledAt: null,
  failureCode: null,
  disputes: {},
};

const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 10, minute));
const event = (partial: Partial<Fact> & Pick<Fact, 'action'>): Fact => ({
  amountMinor: null,
  occurredAt: at(0),
  refund: null,
  disputeRef: null,
  failureCode: null,
  ...partial,
});

/** Applies events in order, counting a refund id once (what the refunds table does for real). */
function replay(events: readonly Fact[], amountMinor = 5_500): PaymentFacts {
  const seenRefunds = new Set<string>();
  return events.reduce((facts, next) => {
    const ref = next.refund?.refundRef ?? null;
    const newRefund = ref !== null && !seenRefunds.has(ref);
    if (ref) seenRefunds.add(ref);
    return mergeEvent(facts, next, { amountMinor, newRefund });
  }, EMPTY);
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

const LIFECYCLE: readonly Fact[] = [
  event({ action: 'authorized', occurredAt: at(1) }),
  event({ action: 'captured', amountMinor: 5_500, occurredAt: at(2) }),
  event({
    action: 'refunded',
    occurredAt: at(3),
    refund: { refundRef: 're_1', amountMinor: 1_000, totalRefundedMinor: null },
  }),
  event({ action: 'disputed', occurredAt: at(4), disputeRef: 'dp_1' }),
  event({ action: 'dispute_closed', occurredAt: at(5), disputeRef: 'dp_1' }),
];

describe('payment state', () => {
  it('every one of the 120 orderings of a 5-event lifecycle ends in the same facts and status', () => {
    const expected = replay(LIFECYCLE);
    expect(deriveStatus(expected)).toBe('partially_refunded');
    expect(expected).toMatchObject({
      capturedMinor: 5_500,
      refundedMinor: 1_000,
      disputes: { dp_1: 'closed' },
    });
    const orderings = permutations(LIFECYCLE);
    expect(orderings).toHaveLength(120);
    for (const ordering of orderings) {
      const facts = replay(ordering);
      expect(facts).toEqual(expected);
      expect(deriveStatus(facts)).toBe('partially_refunded');
    }
  });

  it('applying any event again changes nothing', () => {
    const facts = replay(LIFECYCLE);
    for (const again of LIFECYCLE) expect(replay([...LIFECYCLE, again])).toEqual(facts);
  });

  it('money outranks a late failure; an ending outranks an approval without money', () => {
    const declinedThenPaid = replay([
      event({ action: 'captured', amountMinor: 5_500, occurredAt: at(2) }),
      event({ action: 'failed', occurredAt: at(1), failureCode: 'card_declined' }),
    ]);
    expect(deriveStatus(declinedThenPaid)).toBe('captured');
    expect(deriveStatus(replay([event({ action: 'authorized' }), event({ action: 'failed' })]))).toBe(
      'failed',
    );
    expect(deriveStatus(replay([event({ action: 'failed' }), event({ action: 'authorized' })]))).toBe(
      'failed',
    );
    expect(deriveStatus(replay([event({ action: 'canceled' })]))).toBe('canceled');
    expect(deriveStatus(EMPTY)).toBe('pending');
  });

  it('a running refund total (Stripe) and refund ids (PayPal) both count each refund once', () => {
    const byTotal = replay([
      event({ action: 'captured', amountMinor: 5_500 }),
      event({
        action: 'refunded',
        refund: { refundRef: null, amountMinor: null, totalRefundedMinor: 2_000 },
      }),
      event({
        action: 'refunded',
        refund: { refundRef: null, amountMinor: null, totalRefundedMinor: 1_000 },
      }),
    ]);
    expect(byTotal.refundedMinor).toBe(2_000);
    const full = replay([
      event({
        action: 'refunded',
        refund: { refundRef: 're_a', amountMinor: 3_000, totalRefundedMinor: null },
      }),
      event({
        action: 'refunded',
        refund: { refundRef: 're_b', amountMinor: 2_500, totalRefundedMinor: null },
      }),
      event({
        action: 'refunded',
        refund: { refundRef: 're_a', amountMinor: 3_000, totalRefundedMinor: null },
      }),
    ]);
    expect(full).toMatchObject({ capturedMinor: 5_500, refundedMinor: 5_500 });
    expect(deriveStatus(full)).toBe('refunded');
  });

  it('an open dispute shows until it closes, and a late "created" does not reopen it', () => {
    const open = replay([
      event({ action: 'captured', amountMinor: 5_500 }),
      event({ action: 'disputed', disputeRef: 'dp' }),
    ]);
    expect(deriveStatus(open)).toBe('disputed');
    const closedFirst = replay([
      event({ action: 'dispute_closed', disputeRef: 'dp' }),
      event({ action: 'disputed', disputeRef: 'dp' }),
    ]);
    expect(deriveStatus(closedFirst)).toBe('captured');
  });
});
