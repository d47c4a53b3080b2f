/**
 * Users, browser sessions and API tokens. Secrets (session ids, tokens) are
 * random, given out once, and stored only as SHA-256 hashes; passwords as
 * scrypt hashes.
 */

import { createHash, randomBytes } from 'node:crypto';
import {
  DEFAULT_PARAMS,
  dummyHashFor,
  hashPassword,
  needsRehash,
  type ScryptParams,
  verifyPassword,
} from '@ims/passwords';
import type { FastifyInstance } from 'fastify';

export type Scope = 'read' | 'write';

export interface Token {
  id: number;
  name: string;
  scope: Scope;
  createdAt: string;
  createdBy: string;
  lastUsedAt?: string;
  expiresAt?: string;
}

/** A signed-in session as GET /api/v1/sessions lists it. */
export interface SessionView {
  id: string;
  username: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  clientAddress: string;
  userAgent: string;
  current: boolean;
}

/** Where a sign-in came from. */
export interface SessionOrigin {
  clientAddress: string;
  userAgent: string;
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
  /** For a session: its public id (GET /api/v1/sessions), recorded on the tokens it creates. */
  sessionId?: string;
  /** For a session: the signed-in user's id. */
  userId?: number;
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
  expires_at: string | null;
}

const toToken = (r: TokenRow): Token => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  createdAt: r.created_at,
  createdBy: r.created_by,
  ...(r.last_used_at ? { lastUsedAt: r.last_used_at } : {}),
  ...(r.expires_at ? { expiresAt: r.expires_at } : {}),
});

interface SessionRow {
  public_id: string;
  username: string;
  created_at: string;
  last_seen_at: string | null;
  expires_at: string;
  client_ip: string | null;
  user_agent: string | null;
}

/** How often a token's last use (or a session's last request) is written down. */
const TOUCH_EVERY_MS = 60_000;
/** The longest user agent kept for the sessions list. */
const MAX_USER_AGENT = 300;

/**
 * @param passwordCost the scrypt cost of new password hashes, and the cost
 *   below which a stored hash is hashed again at the next successful sign-in.
 */
export function authRepository(
  db: FastifyInstance['db'],
  passwordCost: ScryptParams = DEFAULT_PARAMS,
) {
  // Unknown users are checked against a hash of the same cost as real ones.
  const dummyHash = dummyHashFor(passwordCost);
  // The statements of every authenticated request, compiled once.
  const tokenByHash = db.prepare(
    'SELECT id, name, scope, created_by, expires_at FROM tokens WHERE token_hash = ? AND revoked_at IS NULL',
  );
  const touchToken = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  const lastTouched = new Map<number, number>();
  const sessionByHash = db.prepare(
    `SELECT u.id AS user_id, u.username, s.csrf_token, s.expires_at, s.public_id FROM sessions s
     JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
  );
  const touchSession = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
  const sessionTouched = new Map<string, number>();
  const revokeTokensOf = db.prepare(
    'UPDATE tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL',
  );

  return {
    userExists(username: string): boolean {
      return db.prepare('SELECT 1 FROM users WHERE username = ?').get(username) !== undefined;
    },

    hasUsers(): boolean {
      return db.prepare('SELECT 1 FROM users LIMIT 1').get() !== undefined;
    },

    async createUser(username: string, password: string): Promise<void> {
      this.insertUser(username, await hashPassword(password, passwordCost));
    },

    /** Adds a user whose password is already hashed (so the insert can sit in a transaction). */
    insertUser(username: string, hash: string): void {
      db.prepare('INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)').run(
        username,
        hash,
        new Date().toISOString(),
      );
    },

    /**
     * The user's id when the password is right. Spends the same time for
     * unknown users. A right password whose stored hash is cheaper than the
     * current cost is hashed again at that cost (OWASP: upgrade at sign-in).
     */
    async checkPassword(username: string, password: string): Promise<number | undefined> {
      const row = db
        .prepare('SELECT id, password_hash FROM users WHERE username = ?')
        .get(username) as { id: number; password_hash: string } | undefined;
      const ok = await verifyPassword(password, row?.password_hash ?? dummyHash);
      if (!ok || !row) return undefined;
      if (needsRehash(row.password_hash, passwordCost)) {
        const upgraded = await hashPassword(password, passwordCost);
        // Only if nobody changed the password meanwhile.
        db.prepare('UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?').run(
          upgraded,
          row.id,
          row.password_hash,
        );
      }
      return row.id;
    },

    /** A new hash at the current cost (hash first, then write in a transaction). */
    hash(password: string): Promise<string> {
      return hashPassword(password, passwordCost);
    },

    /**
     * Sets a user's password hash and signs out every other session of the
     * user (revoking the tokens created in them); the counts of both.
     */
    setPassword(
      userId: number,
      hash: string,
      keepSessionHash: string | undefined,
    ): { revokedSessions: number; revokedTokens: number } {
      return db.transaction(() => {
        db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, userId);
        const others = db
          .prepare('SELECT public_id FROM sessions WHERE user_id = ? AND id_hash IS NOT ?')
          .all(userId, keepSessionHash ?? null) as { public_id: string }[];
        let revokedTokens = 0;
        for (const o of others)
          revokedTokens += this.revokeSession(o.public_id)?.revokedTokens ?? 0;
        return { revokedSessions: others.length, revokedTokens };
      })();
    },

    createSession(
      userId: number,
      origin: SessionOrigin = { clientAddress: '', userAgent: '' },
    ): { id: string; csrfToken: string; expiresAt: Date; publicId: string } {
      const id = secret();
      const csrfToken = secret();
      const publicId = randomBytes(12).toString('hex');
      const now = Date.now();
      const at = new Date(now).toISOString();
      const expiresAt = new Date(now + SESSION_TTL_MS);
      db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(at);
      db.prepare(
        `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, public_id,
           last_seen_at, client_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        sha256(id),
        userId,
        csrfToken,
        at,
        expiresAt.toISOString(),
        publicId,
        at,
        origin.clientAddress,
        origin.userAgent.slice(0, MAX_USER_AGENT),
      );
      return { id, csrfToken, expiresAt, publicId };
    },

    /** The signed-in sessions (not expired), newest first; `current` marks the caller's. */
    listSessions(currentSessionId: string | undefined): SessionView[] {
      const rows = db
        .prepare(
          `SELECT s.public_id, u.username, s.created_at, s.last_seen_at, s.expires_at,
             s.client_ip, s.user_agent FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.expires_at > ? ORDER BY s.created_at DESC, s.rowid DESC`,
        )
        .all(new Date().toISOString()) as SessionRow[];
      return rows.map((r) => ({
        id: r.public_id,
        username: r.username,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at ?? r.created_at,
        expiresAt: r.expires_at,
        clientAddress: r.client_ip ?? '',
        userAgent: r.user_agent ?? '',
        current: r.public_id === currentSessionId,
      }));
    },

    /**
     * Revokes a session and every token created in it; the session's user
     * and the number of tokens revoked, or undefined when there is none.
     */
    revokeSession(publicId: string): { username: string; revokedTokens: number } | undefined {
      return db.transaction(() => {
        const row = db
          .prepare(
            `SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.public_id = ? AND s.expires_at > ?`,
          )
          .get(publicId, new Date().toISOString()) as { username: string } | undefined;
        if (!row) return undefined;
        db.prepare('DELETE FROM sessions WHERE public_id = ?').run(publicId);
        const revoked = revokeTokensOf.run(new Date().toISOString(), publicId);
        return { username: row.username, revokedTokens: revoked.changes };
      })();
    },

    sessionActor(sessionId: string): Actor | undefined {
      const hash = sha256(sessionId);
      const row = sessionByHash.get(hash) as
        | {
            user_id: number;
            username: string;
            csrf_token: string;
            expires_at: string;
            public_id: string;
          }
        | undefined;
      if (!row || Date.parse(row.expires_at) <= Date.now()) return undefined;
      // Last seen: written at most once a minute per session, as for tokens.
      const now = Date.now();
      if (now - (sessionTouched.get(hash) ?? 0) >= TOUCH_EVERY_MS) {
        if (sessionTouched.size > 10_000) sessionTouched.clear();
        sessionTouched.set(hash, now);
        touchSession.run(new Date(now).toISOString(), hash);
      }
      return {
        name: row.username,
        scope: 'write',
        via: 'session',
        csrfToken: row.csrf_token,
        sessionHash: hash,
        sessionId: row.public_id,
        userId: row.user_id,
      };
    },

    deleteSession(sessionHash: string): void {
      db.prepare('DELETE FROM sessions WHERE id_hash = ? OR expires_at <= ?').run(
        sessionHash,
        new Date().toISOString(),
      );
    },

    /**
     * A new token, created in the session `sessionId` (revoking that session
     * revokes it too), lasting `expiresInSeconds` or until revoked.
     */
    createToken(
      name: string,
      scope: Scope,
      createdBy: string,
      sessionId: string,
      expiresInSeconds?: number,
    ): Token & { token: string } {
      const token = `${TOKEN_PREFIX}${secret()}`;
      const now = Date.now();
      const createdAt = new Date(now).toISOString();
      const expiresAt =
        expiresInSeconds === undefined
          ? undefined
          : new Date(now + expiresInSeconds * 1000).toISOString();
      const result = db
        .prepare(
          `INSERT INTO tokens (name, scope, token_hash, created_at, created_by, expires_at, session_id)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(name, scope, sha256(token), createdAt, createdBy, expiresAt ?? null, sessionId);
      return {
        id: Number(result.lastInsertRowid),
        name,
        scope,
        createdAt,
        createdBy,
        ...(expiresAt ? { expiresAt } : {}),
        token,
      };
    },

    /** The actor of a token; undefined when it is unknown, revoked or expired. */
    tokenActor(token: string): Actor | undefined {
      const row = tokenByHash.get(sha256(token)) as
        | { id: number; name: string; scope: Scope; created_by: string; expires_at: string | null }
        | undefined;
      if (!row) return undefined;
      const now = Date.now();
      if (row.expires_at !== null && Date.parse(row.expires_at) <= now) return undefined;
      // Recorded at most once a minute per token: a durable write (an fsync)
      // on every request would cap the whole API at the disk's flush rate.
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
