import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { decodeKeysetCursor, encodeKeysetCursor } from '../../platform/http/keyset-cursor.ts';
import { availableQuantities } from './availability.ts';
import { invalidQuantity, variantNotFound } from './inventory.errors.ts';
import {
  countActiveHolds,
  findMovement,
  findStockLevel,
  listMovements,
  type MovementRow,
  publicVariantExists,
  variantExists,
} from './inventory.repo.ts';
import type {
  AdjustInput,
  AvailabilityView,
  MovementPageView,
  MovementView,
  ReceiveInput,
  StockChangeView,
  StockLevelsView,
} from './inventory.schemas.ts';
import { adjustStock, receiveStock, type StockChange } from './stock-changes.ts';

const DEFAULT_LIMIT = 50;
const CURSOR_TAG = 'movements';

/** Opaque to clients: base64url of `["movements", <last id>]`. */
function encodeCursor(id: number): string {
  return encodeKeysetCursor([CURSOR_TAG, id]);
}

function decodeCursor(text: string): number {
  return decodeKeysetCursor(text, (parts) => {
    const [tag, id] = parts;
    return parts.length === 2 && tag === CURSOR_TAG && Number.isSafeInteger(id) && (id as number) > 0
      ? (id as number)
      : undefined;
  });
}

function toMovementView(row: MovementRow): MovementView {
  return {
    id: row.id,
    variantId: row.variantId,
    reason: row.reason,
    quantity: row.quantity,
    availableBefore: row.availableBefore,
    availableAfter: row.availableAfter,
    heldAfter: row.heldAfter,
    soldAfter: row.soldAfter,
    actorId: row.actorId,
    orderId: row.orderId,
    holdId: row.holdId,
    note: row.note,
    createdAt: row.createdAt,
  };
}

export interface InventoryActor {
  readonly userId: string;
}

export interface InventoryService {
  levels(options: { variantId: string }): Promise<StockLevelsView>;
  movements(options: {
    variantId: string;
    limit?: number | undefined;
    cursor?: string | undefined;
  }): Promise<MovementPageView>;
  receive(options: {
    actor: InventoryActor;
    variantId: string;
    input: ReceiveInput;
  }): Promise<StockChangeView>;
  adjust(options: { actor: InventoryActor; variantId: string; input: AdjustInput }): Promise<StockChangeView>;
  /** Public: units on sale now for a variant of an active product. */
  availability(options: { variantId: string }): Promise<AvailabilityView>;
}

/**
 * Staff stock tools and the public availability read. Each change is one transaction with its
 * movement; the in-transaction building blocks (`receiveStock`, `adjustStock`, holds) are what
 * checkout, orders and payments call inside their own transactions.
 */
export function createInventoryService({ db, clock }: { db: Db; clock: Clock }): InventoryService {
  async function levelsOf(tx: DbOrTx, variantId: string): Promise<StockLevelsView> {
    const level = await findStockLevel(tx, variantId);
    const activeHolds = await countActiveHolds(tx, variantId);
    return {
      variantId,
      received: level?.received ?? 0,
      adjusted: level?.adjusted ?? 0,
      available: level?.available ?? 0,
      held: level?.held ?? 0,
      sold: level?.sold ?? 0,
      activeHolds,
      updatedAt: level?.updatedAt ?? null,
    };
  }

  async function changeView(tx: DbOrTx, variantId: string, change: StockChange): Promise<StockChangeView> {
    const movement = await findMovement(tx, change.movementId);
    if (!movement) throw new Error(`movement ${change.movementId} not found in its own transaction`);
    return { levels: await levelsOf(tx, variantId), movement: toMovementView(movement) };
  }

  return {
    async levels({ variantId }) {
      if (!(await variantExists(db, variantId))) throw variantNotFound();
      return levelsOf(db, variantId);
    },

    async movements({ variantId, limit = DEFAULT_LIMIT, cursor }) {
      const beforeId = cursor === undefined ? undefined : decodeCursor(cursor);
      if (!(await variantExists(db, variantId))) throw variantNotFound();
      const rows = await listMovements(db, { variantId, beforeId, limit: limit + 1 });
      const more = rows.length > limit;
      const items = more ? rows.slice(0, limit) : rows;
      const last = items.at(-1);
      return { items: items.map(toMovementView), nextCursor: more && last ? encodeCursor(last.id) : null };
    },

    receive({ actor, variantId, input }) {
      return db.transaction(async (tx) => {
        const change = await receiveStock(tx, {
          variantId,
          quantity: input.quantity,
          actorId: actor.userId,
          note: input.note ?? null,
          at: clock.now(),
        });
        return changeView(tx, variantId, change);
      });
    },

    async adjust({ actor, variantId, input }) {
      // The schema allows 0 (JSON Schema has no "not 0" an OpenAPI client shows well): refused here.
      if (input.delta === 0) throw invalidQuantity('body.delta', 'A correction of 0 changes nothing');
      return db.transaction(async (tx) => {
        const change = await adjustStock(tx, {
          variantId,
          delta: input.delta,
          actorId: actor.userId,
          note: input.note ?? null,
          at: clock.now(),
        });
        return changeView(tx, variantId, change);
      });
    },

    async availability({ variantId }) {
      if (!(await publicVariantExists(db, variantId))) throw variantNotFound();
      const available = await availableQuantities(db, [variantId]);
      return { variantId, available: available.get(variantId) ?? 0 };
    },
  };
}
