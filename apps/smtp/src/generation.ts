/**
 * A generation: one configuration version, validated and compiled. Sessions
 * keep the generation they started with; a restart swaps in the next one.
 */

import { compile, InvalidConfigError, type Policy, type RoutingConfig } from '@ims/routing-core';

export interface Bundle {
  version: number;
  config: RoutingConfig;
  directory: { address: string; passwordHash: string }[];
  issuedAt?: string;
}

export interface Generation {
  version: number;
  policy: Policy;
  loadedAt: Date;
}

/** Validates and compiles a bundle's configuration; throws with the reason when it cannot be run. */
export function loadGeneration(bundle: unknown): Generation {
  const b = bundle as Partial<Bundle> | null;
  if (!b || typeof b !== 'object' || !Number.isInteger(b.version) || (b.version ?? 0) < 1) {
    throw new Error('The bundle has no valid version number.');
  }
  try {
    return {
      version: b.version as number,
      policy: compile(b.config as RoutingConfig),
      loadedAt: new Date(),
    };
  } catch (err) {
    if (err instanceof InvalidConfigError) {
      throw new Error(
        `Version ${b.version} is not a valid configuration: ${err.errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`,
      );
    }
    throw err;
  }
}

/** The directory: mailbox address (lower case) → password hash. Replaced whole on a change. */
export function loadDirectory(bundle: unknown): Map<string, string> {
  const entries = (bundle as Partial<Bundle> | null)?.directory;
  if (!Array.isArray(entries)) throw new Error('The bundle has no directory.');
  const map = new Map<string, string>();
  for (const e of entries) {
    if (typeof e?.address === 'string' && typeof e.passwordHash === 'string') {
      map.set(e.address.toLowerCase(), e.passwordHash);
    }
  }
  return map;
}
