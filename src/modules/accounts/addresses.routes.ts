import Type from 'typebox';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import {
  Address,
  AddressList,
  AddressParams,
  CreateAddressBody,
  UpdateAddressBody,
} from './addresses.schemas.ts';
import { createAddressesService } from './addresses.service.ts';

/** The owner is always the signed-in user: a user id in the input is never read. */
function requireUser(userId: string | undefined): string {
  if (!userId) throw new AppError('unauthenticated', 'Sign in to continue');
  return userId;
}

const OWNER = 'the address owner';

/** The signed-in user's address book and default shipping address. */
export function registerAddressRoutes(app: AppInstance, context: AccountsContext): void {
  const addresses = createAddressesService({ db: context.services.db, clock: context.services.clock });

  app.get(
    '/api/me/addresses',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: ['addresses'],
        summary: 'My addresses, the default shipping address first, then newest first',
        response: { 200: AddressList },
      },
    },
    async (request) => ({ items: await addresses.list({ userId: requireUser(request.principal?.userId) }) }),
  );

  app.post(
    '/api/me/addresses',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: ['addresses'],
        summary: 'Add an address (the first one becomes the default shipping address; at most 20)',
        body: CreateAddressBody,
        response: { 201: Address },
      },
    },
    async (request, reply) => {
      const address = await addresses.create({
        userId: requireUser(request.principal?.userId),
        input: request.body,
      });
      return reply.status(201).send(address);
    },
  );

  app.get(
    '/api/me/addresses/default',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: ['addresses'],
        summary: 'My default shipping address (404 when I have none)',
        response: { 200: Address },
      },
    },
    async (request) => addresses.getDefault({ userId: requireUser(request.principal?.userId) }),
  );

  app.get(
    '/api/me/addresses/:id',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: ['addresses'],
        summary: 'One of my addresses',
        params: AddressParams,
        response: { 200: Address },
      },
    },
    async (request) =>
      addresses.get({ userId: requireUser(request.principal?.userId), id: request.params.id }),
  );

  app.patch(
    '/api/me/addresses/:id',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: ['addresses'],
        summary: 'Change one of my addresses (the changed address is checked as a whole)',
        params: AddressParams,
        body: UpdateAddressBody,
        response: { 200: Address },
      },
    },
    async (request) =>
      addresses.update({
        userId: requireUser(request.principal?.userId),
        id: request.params.id,
        input: request.body,
      }),
  );

  app.delete(
    '/api/me/addresses/:id',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: ['addresses'],
        summary: 'Delete one of my addresses (deleting the default promotes my newest other address)',
        params: AddressParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await addresses.remove({ userId: requireUser(request.principal?.userId), id: request.params.id });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/me/addresses/:id/default',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: ['addresses'],
        summary: 'Make one of my addresses the default shipping address',
        params: AddressParams,
        response: { 200: Address },
      },
    },
    async (request) =>
      addresses.makeDefault({ userId: requireUser(request.principal?.userId), id: request.params.id }),
  );
}
