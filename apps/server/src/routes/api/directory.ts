/**
 * The local directory of mailboxes: list, create, read, update, delete. The
 * password is write-only. Every change is audited in its own transaction and
 * then announced to the attached SMTP nodes (`directory` event), which fetch
 * the new directory with their bundle.
 */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { routes } from '@ims/api-contract';
import { Policy } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import {
  canonicalAddress,
  DuplicateMailboxError,
  InvalidAddressError,
} from '../../plugins/app/directory-repository';
import { ProblemError } from '../../problems/problem-error';
import { routeOptions } from '../route-options';

const addressProblem = (detail: string) =>
  new ProblemError('policy-invalid', `The address is not valid: ${detail}`, {
    errors: [{ pointer: '/address', detail }],
  });

const notFound = (id: number) => new ProblemError('not-found', `There is no mailbox ${id}.`);

export default async function directoryRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  // The saved configuration compiled once per version, not once per request.
  let compiled: { version: number; policy: Policy } | undefined;
  const savedPolicy = (): { version: number; policy: Policy } => {
    const current = app.routingVersions.current();
    if (compiled?.version !== current.version) {
      compiled = { version: current.version, policy: new Policy(current.config) };
    }
    return compiled;
  };

  /** The canonical address, if the saved configuration delivers its domain locally. */
  const checkAddress = (text: string): string => {
    const canonical = canonicalAddress(text);
    if (!canonical.ok) throw addressProblem(canonical.message);
    const { version, policy } = savedPolicy();
    const local =
      canonical.domain === policy.siteDomain ||
      policy.findRoute(canonical.domain)?.target.kind === 'inbound';
    if (!local) {
      throw addressProblem(
        `The domain ${canonical.domain} is neither the site domain nor an <inbound> domain of the saved routing configuration (version ${version}).`,
      );
    }
    return canonical.address;
  };

  /** Tells the attached SMTP nodes that the directory changed. */
  const publish = () => {
    if (!app.hasDecorator('nodeEvents')) return;
    (
      app as unknown as { nodeEvents?: { publishToNodes(type: string, data: object): void } }
    ).nodeEvents?.publishToNodes('directory', {});
  };

  app.route({
    ...routeOptions(routes.listMailboxes),
    handler: async () => ({ mailboxes: app.directory.list() }),
  });

  app.route({
    ...routeOptions(routes.createMailbox),
    handler: async (request, reply) => {
      const { displayName, password } = request.body;
      const address = checkAddress(request.body.address);
      try {
        const mailbox = await app.directory.create({ address, displayName, password }, (m) =>
          app.audited(request, 'mailbox.created', {
            target: `mailbox:${m.address}`,
            details: { id: m.id, displayName: m.displayName },
          }),
        );
        publish();
        return reply.code(201).send(mailbox);
      } catch (err) {
        if (err instanceof DuplicateMailboxError) {
          throw new ProblemError('conflict', `The directory already has a mailbox ${address}.`, {
            errors: [{ pointer: '/address', detail: 'A mailbox with this address exists.' }],
          });
        }
        if (err instanceof InvalidAddressError) throw addressProblem(err.message);
        throw err;
      }
    },
  });

  app.route({
    ...routeOptions(routes.getMailbox),
    handler: async (request) => {
      const mailbox = app.directory.get(request.params.id);
      if (!mailbox) throw notFound(request.params.id);
      return mailbox;
    },
  });

  app.route({
    ...routeOptions(routes.updateMailbox),
    handler: async (request) => {
      const { displayName, password } = request.body;
      const updated = await app.directory.update(
        request.params.id,
        {
          ...(displayName === undefined ? {} : { displayName }),
          ...(password === undefined ? {} : { password }),
        },
        ({ before, after }) =>
          app.audited(request, 'mailbox.updated', {
            target: `mailbox:${after.address}`,
            details: {
              id: after.id,
              ...(displayName === undefined
                ? {}
                : { displayName: { from: before.displayName, to: after.displayName } }),
              ...(password === undefined ? {} : { passwordChanged: true }),
            },
          }),
      );
      if (!updated) throw notFound(request.params.id);
      publish();
      return updated;
    },
  });

  app.route({
    ...routeOptions(routes.deleteMailbox),
    handler: async (request, reply) => {
      const removed = app.directory.remove(request.params.id, (m) =>
        app.audited(request, 'mailbox.deleted', {
          target: `mailbox:${m.address}`,
          details: { id: m.id, displayName: m.displayName },
        }),
      );
      if (!removed) throw notFound(request.params.id);
      publish();
      return reply.code(204).send(null);
    },
  });
}
