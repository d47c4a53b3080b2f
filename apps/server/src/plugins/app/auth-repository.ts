/**
 * Users, browser sessions and API tokens. Secrets (session ids, tokens) are
 * random, given out once, and stored only as SHA-256 hashes; passwords as
 * scrypt hashes.
 */

import { createHash, randomBytes } from 'node:crypto';
import { DUMMY_HASH, hashPassword, verifyPassword } from '@ims/passwords';
import type { FastifyInstance } from 'fastify';

export type Scope = 'read' | 'write';

export interface Token {
  id: number;
  name: string;
  scope: Scope;
  createdAt: string;
  createdBy: string;
  lastUsedAt?: string;
}

/** Who is making a request. */
export interface Actor {
  /** A user name, or `token:<name>`. */
  name: string;
  scope: Scope;
  via: 'session' | 'token';
  /** For a session: the CSRF token its writes must send. */
  csrfToken?: string;
  /** For a session: the hash of its id (to sign out). */
  sessionHash?: string;
  /** For a token: the user who created it (the person behind it, for the audit log). */
  person?: string;
}

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const TOKEN_PREFIX = 'ims_';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const secret = () => randomBytes(32).toString('base64url');

interface TokenRow {
  id: number;
  name: string;
  scope: Scope;
  created_at: string;
  created_by: string;
  last_used_at: string | null;
}

const toToken = (r: TokenRow): Token => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  createdAt: r.created_at,
  createdBy: r.created_by,
  ...(r.last_used_at ? { lastUsedAt: r.last_used_at } : {}),
});

/** How often a token's last use is written down. */
const TOUCH_EVERY_MS = 60_000;

export function authRepository(db: FastifyInstance['db']) {
  // The statements of every authenticated request, compiled once.
  const tokenByHash = db.prepare(
    'SELECT id, name, scope, created_by FROM tokens WHERE token_hash = ? AND revoked_at IS NULL',
  );
  const touchToken = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  const lastTouched = new Map<number, number>();
  const sessionByHash = db.prepare(
    `SELECT u.username, s.csrf_token, s.expires_at FROM sessions s
     JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
  );

  return {
    userExists(username: string): boolean {
      return db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
    },

    hasUsers(): boolean {
      return db.prepare('SELECT 1 FROM users LIMIT 1').get() !== undefined;
    },

    async createUser(username: string, password: string): Promise<void> {
      this.insertUser(username, await hashPassword(password));
    },

    /** Adds a user whose password is already hashed (so the insert can sit in a transaction). */
    insertUser(username: string, hash: string): void {
      db.prepare('INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)').run(
        username,
        hash,
        new Date().toISOString(),
      );
    },

    /** The user's id when the password is right. Spends the same time for unknown users. */
    async checkPassword(username: string, password: string): Promise<number | undefined> {
      const row = db
        .prepare('SELECT id, password_hash FROM users WHERE username = ?')
        .get(username) as { id: number; password_hash: string } | undefined;
      const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
      return ok && row ? row.id : undefined;
    },

    createSession(userId: number): { id: string; csrfToken: string; expiresAt: Date } {
      const id = secret();
      const csrfToken = secret();
      const now = Date.now();
      const expiresAt = new Date(now + SESSION_TTL_MS);
      db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(new Date(now).toISOString());
      db.prepare(
        'INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      ).run(sha256(id), userId, csrfToken, new Date(now).toISOString(), expiresAt.toISOString());
      return { id, csrfToken, expiresAt };
    },

    sessionActor(sessionId: string): Actor | undefined {
      const hash = sha256(sessionId);
      const row = sessionByHash.get(hash) as
        | { username: string; csrf_token: string; expires_at: string }
        | undefined;
      if (!row || Date.parse(row.expires_at) <= Date.now()) return undefined;
      return {
        name: row.username,
        scope: 'write',
        via: 'session',
        csrfToken: row.csrf_token,
        sessionHash: hash,
      };
    },

    deleteSession(sessionHash: string): void {
      db.prepare('DELETE FROM sessions WHERE id_hash = ? OR expires_at <= ?').run(
        sessionHash,
        new Date().toISOString(),
      );
    },

    createToken(name: string, scope: Scope, createdBy: string): Token & { token: string } {
      const token = `${TOKEN_PREFIX}${secret()}`;
      const createdAt = new Date().toISOString();
      const result = db
        .prepare(
          'INSERT INTO tokens (name, scope, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
        )
        .run(name, scope, sha256(token), createdAt, createdBy);
      return { id: Number(result.lastInsertRowid), name, scope, createdAt, createdBy, token };
    },

    tokenActor(token: string): Actor | undefined {
      const row = tokenByHash.get(sha256(token)) as
        | { id: number; name: string; scope: Scope; created_by: string }
        | undefined;
      if (!row) return undefined;
      // Recorded at most once a minute per token: a durable write (an fsync)
      // on every request would cap the whole API at the disk's flush rate.
      const now = Date.now();
      if (now - (lastTouched.get(row.id) ?? 0) >= TOUCH_EVERY_MS) {
        lastTouched.set(row.id, now);
        touchToken.run(new Date(now).toISOString(), row.id);
      }
      return {
        name: `token:${row.name}`,
        scope: row.scope,
        via: 'token',
        person: row.created_by,
      };
    },

    listTokens(): Token[] {
      const rows = db
        .prepare('SELECT * FROM tokens WHERE revoked_at IS NULL ORDER BY id')
        .all() as TokenRow[];
      return rows.map(toToken);
    },

    /** Revokes a token; the revoked token, or undefined when there is none. */
    revokeToken(id: number): Token | undefined {
      const row = db.prepare('SELECT * FROM tokens WHERE id = ? AND revoked_at IS NULL').get(id) as
        | TokenRow
        | undefined;
      if (!row) return undefined;
      db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(new Date().toISOString(), id);
      return toToken(row);
    },
  };
}
