/**
 * Every table, gathered for Drizzle's relational queries and drizzle-kit. Each module owns its
 * `*.tables.ts`; this file only lists them.
 */

export * from '../../modules/accounts/accounts.tables.ts';
export * from '../../modules/cart/cart.tables.ts';
export * from '../../modules/catalog/catalog.tables.ts';
export * from '../../modules/checkout/checkout.tables.ts';
export * from '../../modules/currency/currency.tables.ts';
export * from '../../modules/inventory/inventory.tables.ts';
export * from '../../modules/orders/orders.tables.ts';
export * from '../../modules/payments/payments.tables.ts';
export * from '../notify/notify.tables.ts';
export * from './platform.tables.ts';
