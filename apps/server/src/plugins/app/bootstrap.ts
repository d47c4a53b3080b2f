/**
 * First start: the routing configuration of a new install (version 1), the
 * `postmaster` mailbox of the site domain (RFC 5321 §4.5.1: postmaster mail
 * is always accepted and must land somewhere), and the `admin` account, from
 * IMS_ADMIN_PASSWORD or a random password handed to `onAdminCreated` (the
 * server prints it, once).
 */

import { randomBytes } from 'node:crypto';
import { defaultConfig, validate } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface BootstrapOptions {
  siteDomain: string;
  adminPassword?: string | undefined;
  /** Called once, on first start, with the admin password (generated when none was given). */
  onAdminCreated?: (password: string, generated: boolean) => void;
}

export default fp(
  async (app: FastifyInstance, opts: BootstrapOptions) => {
    const checked = validate(defaultConfig(opts.siteDomain));
    if (!checked.ok) {
      throw new Error(
        `IMS_SITE_DOMAIN "${opts.siteDomain}" is not a valid domain name: ${checked.errors[0]?.message}`,
      );
    }
    const seeded = app.db.transaction(() => {
      if (!app.routingVersions.seed(checked.config.siteDomain)) return false;
      // Nodes run version 1 until an administrator restarts them onto a later one.
      app.nodes.setTarget(1, 'system');
      app.audit.record({
        actor: 'system',
        source: 'local',
        action: 'routing.seeded',
        target: 'routing:v1',
      });
      return true;
    })();
    if (seeded) {
      app.log.info(
        { siteDomain: checked.config.siteDomain },
        'seeded the routing configuration of a new install',
      );
    }
    const postmaster = `postmaster@${checked.config.siteDomain}`;
    if (seeded && !app.directory.isKnown(postmaster)) {
      // Nobody knows this password: an administrator sets one in the
      // directory to read postmaster mail or send as postmaster.
      await app.directory.create(
        {
          address: postmaster,
          displayName: 'Postmaster',
          password: randomBytes(24).toString('base64url'),
        },
        () =>
          app.audit.record({
            actor: 'system',
            source: 'local',
            action: 'mailbox.created',
            target: `mailbox:${postmaster}`,
          }),
      );
    }
    if (!app.auth.hasUsers()) {
      const generated = opts.adminPassword === undefined;
      const password = opts.adminPassword ?? randomBytes(12).toString('base64url');
      const hash = await app.auth.hash(password);
      app.db.transaction(() => {
        app.auth.insertUser('admin', hash);
        app.audit.record({
          actor: 'system',
          source: 'local',
          action: 'user.created',
          target: 'admin',
        });
      })();
      opts.onAdminCreated?.(password, generated);
    }
  },
  {
    name: 'bootstrap',
    dependencies: ['repositories'],
  },
);
