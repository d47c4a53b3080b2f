/**
 * Example API bodies for component tests. Every one is checked against its
 * api-contract schema when a mock answers with it (mock-api.ts), so the mocks
 * cannot drift from what the console sends.
 */

import type { NodeView, RoutingState, Service } from '@ims/api-client';
import { advise, defaultConfig, type RoutingConfig } from '@ims/routing-core';

export const SAVED_AT = '2026-11-27T10:00:00.000Z';

export function routingState(
  version = 1,
  config: RoutingConfig = defaultConfig('example.com'),
  savedBy = 'admin',
): RoutingState {
  return { version, savedAt: SAVED_AT, savedBy, config, findings: advise(config) };
}

export function node(over: Partial<NodeView> = {}): NodeView {
  return {
    id: 1,
    name: 'local',
    engine: 'ims',
    state: 'running',
    online: true,
    runningVersion: 1,
    lastError: null,
    listen: ['127.0.0.1:2525'],
    startedAt: SAVED_AT,
    lastSeen: SAVED_AT,
    counters: {},
    ...over,
  };
}

/** The console's answer on where a restart stands (it owns it; tests state it). */
export function restart(over: Partial<Service['restart']> = {}): Service['restart'] {
  const targetVersion = over.targetVersion ?? 1;
  return {
    state: 'idle',
    targetVersion,
    behind: [],
    failed: [],
    waitingFor: [],
    noNodeOnline: false,
    summary: `Every node runs version ${targetVersion}.`,
    ...over,
  };
}

export function service(over: Partial<Service> = {}): Service {
  const targetVersion = over.targetVersion ?? 1;
  return {
    savedVersion: 1,
    savedBy: 'admin',
    targetVersion,
    pendingRestart: false,
    restartInProgress: false,
    rollout: null,
    nodes: [node()],
    ...over,
    restart: restart({ targetVersion, ...over.restart }),
  };
}

export const session = { user: { username: 'admin' }, csrfToken: 'csrf-token-1' };
