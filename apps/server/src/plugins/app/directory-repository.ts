/**
 * The local directory: the mailboxes this service delivers to and whose
 * credentials SMTP AUTH checks (docs/design.md §2 "The directory"). Addresses are
 * stored canonical (routing-core's parsePath) and lower-case, so a lookup is
 * case-insensitive; passwords only as scrypt hashes.
 */

import { DEFAULT_PARAMS, hashPassword, type ScryptParams } from '@ims/passwords';
import { parsePath } from '@ims/routing-core';
import type { FastifyInstance } from 'fastify';

export interface Mailbox {
  id: number;
  address: string;
  displayName: string;
  createdAt: string;
  updatedAt: string;
}

/** What an SMTP node's bundle carries for each mailbox. */
export interface DirectoryEntry {
  address: string;
  passwordHash: string;
}

export type CanonicalAddress =
  | { ok: true; address: string; domain: string }
  | { ok: false; message: string };

/**
 * The stored form of a mailbox address: a mailbox with a domain name (not an
 * address literal, no source route), canonical as parsePath gives it, then
 * lower-cased as a whole.
 */
export function canonicalAddress(text: string): CanonicalAddress {
  const parsed = parsePath(`<${text}>`);
  if (!parsed.ok) return { ok: false, message: parsed.message };
  if (parsed.kind !== 'mailbox') return { ok: false, message: 'The address has no domain.' };
  if (parsed.sourceRoute.length > 0) {
    return { ok: false, message: 'The address must not have a source route.' };
  }
  const { mailbox } = parsed;
  if (mailbox.domainKind !== 'name') {
    return { ok: false, message: 'The domain must be a domain name, not an address literal.' };
  }
  return { ok: true, address: mailbox.address.toLowerCase(), domain: mailbox.domain };
}

/** Thrown by create() for an address that is not a valid mailbox address. */
export class InvalidAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAddressError';
  }
}

/** Thrown by create() when the directory already has the address. */
export class DuplicateMailboxError extends Error {
  constructor(readonly address: string) {
    super(`The directory already has a mailbox ${address}.`);
    this.name = 'DuplicateMailboxError';
  }
}

interface Row {
  id: number;
  address: string;
  display_name: string;
  password_hash: string;
  created_at: string;
  updated_at: string;
}

const toMailbox = (r: Row): Mailbox => ({
  id: r.id,
  address: r.address,
  displayName: r.display_name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const isUniqueViolation = (err: unknown) =>
  (err as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';

export interface MailboxCreate {
  address: string;
  displayName: string;
  password: string;
}

export interface MailboxUpdate {
  displayName?: string;
  password?: string;
}

/**
 * Called inside the transaction of a write, with what was written: the place
 * to record the audit entry, so the change and its entry commit together.
 */
export type InTransaction<T> = (result: T) => void;

/**
 * @param passwordCost the scrypt cost of new hashes. SMTP nodes verify the
 *   hashes in their bundle and cannot write them back, so a mailbox hashed at
 *   an older, cheaper cost is upgraded when its password is next set here.
 */
export function directoryRepository(
  db: FastifyInstance['db'],
  passwordCost: ScryptParams = DEFAULT_PARAMS,
) {
  const all = db.prepare('SELECT * FROM mailboxes ORDER BY address');
  const byId = db.prepare('SELECT * FROM mailboxes WHERE id = ?');
  const byAddress = db.prepare('SELECT id FROM mailboxes WHERE address = ?');
  const insert = db.prepare(
    `INSERT INTO mailboxes (address, display_name, password_hash, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const deleteById = db.prepare('DELETE FROM mailboxes WHERE id = ?');
  const countAll = db.prepare('SELECT COUNT(*) AS n FROM mailboxes');
  const entries = db.prepare('SELECT address, password_hash FROM mailboxes ORDER BY address');

  const get = (id: number): Mailbox | undefined => {
    const row = byId.get(id) as Row | undefined;
    return row ? toMailbox(row) : undefined;
  };

  return {
    /** Every mailbox, by address. */
    list(): Mailbox[] {
      return (all.all() as Row[]).map(toMailbox);
    },

    get,

    count(): number {
      return (countAll.get() as { n: number }).n;
    },

    /** Whether `address` (any case, any form parsePath accepts) is a local mailbox. */
    isKnown(address: string): boolean {
      const canonical = canonicalAddress(address);
      return canonical.ok && byAddress.get(canonical.address) !== undefined;
    },

    /**
     * Creates a mailbox: hashes the password first (slow, asynchronous), then
     * inserts in one transaction with `inTransaction`. Throws
     * InvalidAddressError or DuplicateMailboxError.
     */
    async create(input: MailboxCreate, inTransaction?: InTransaction<Mailbox>): Promise<Mailbox> {
      const canonical = canonicalAddress(input.address);
      if (!canonical.ok) throw new InvalidAddressError(canonical.message);
      const address = canonical.address;
      // Fail fast, before spending a hash on it; the UNIQUE index still decides.
      if (byAddress.get(address) !== undefined) throw new DuplicateMailboxError(address);
      const passwordHash = await hashPassword(input.password, passwordCost);
      try {
        return db.transaction(() => {
          const now = new Date().toISOString();
          const result = insert.run(address, input.displayName, passwordHash, now, now);
          const mailbox: Mailbox = {
            id: Number(result.lastInsertRowid),
            address,
            displayName: input.displayName,
            createdAt: now,
            updatedAt: now,
          };
          inTransaction?.(mailbox);
          return mailbox;
        })();
      } catch (err) {
        if (isUniqueViolation(err)) throw new DuplicateMailboxError(address);
        throw err;
      }
    },

    /**
     * Changes the display name and/or the password; the mailbox before and
     * after, or undefined when there is none.
     */
    async update(
      id: number,
      change: MailboxUpdate,
      inTransaction?: InTransaction<{ before: Mailbox; after: Mailbox }>,
    ): Promise<Mailbox | undefined> {
      if (!get(id)) return undefined;
      const passwordHash =
        change.password === undefined
          ? undefined
          : await hashPassword(change.password, passwordCost);
      return db.transaction(() => {
        // Read again: it may have been deleted while the password was hashed.
        const before = get(id);
        if (!before) return undefined;
        const sets = ['updated_at = ?'];
        const now = new Date().toISOString();
        const args: (string | number)[] = [now];
        if (change.displayName !== undefined) {
          sets.push('display_name = ?');
          args.push(change.displayName);
        }
        if (passwordHash !== undefined) {
          sets.push('password_hash = ?');
          args.push(passwordHash);
        }
        db.prepare(`UPDATE mailboxes SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
        const after: Mailbox = {
          ...before,
          ...(change.displayName === undefined ? {} : { displayName: change.displayName }),
          updatedAt: now,
        };
        inTransaction?.({ before, after });
        return after;
      })();
    },

    /** Deletes a mailbox; the deleted mailbox, or undefined when there is none. */
    remove(id: number, inTransaction?: InTransaction<Mailbox>): Mailbox | undefined {
      return db.transaction(() => {
        const mailbox = get(id);
        if (!mailbox) return undefined;
        deleteById.run(id);
        inTransaction?.(mailbox);
        return mailbox;
      })();
    },

    /** The directory as an SMTP node's bundle carries it. */
    bundleEntries(): DirectoryEntry[] {
      return (entries.all() as { address: string; password_hash: string }[]).map((r) => ({
        address: r.address,
        passwordHash: r.password_hash,
      }));
    },
  };
}
