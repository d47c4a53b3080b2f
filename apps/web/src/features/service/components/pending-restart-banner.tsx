import type { NodeView, Service } from '@ims/api-client';
import { useEffect, useRef, useState } from 'react';
import { messageOf } from '../../../lib/problem';
import { useService } from '../api/get-service';
import { useRestartService } from '../api/restart-service';

type Phase = 'idle' | 'pending' | 'restarting' | 'applied' | 'waiting';

/** How long "applied" stays before the banner clears. */
export const APPLIED_MS = 4000;

function nodeLine(node: NodeView, saved: number): string {
  const runs =
    node.runningVersion === null ? 'has not started' : `runs version ${node.runningVersion}`;
  if (!node.online) return `${node.name}: offline (last ${runs.replace('runs', 'ran')})`;
  if (node.state === 'error')
    return `${node.name}: could not apply — ${node.lastError ?? 'unknown error'}; ${runs}`;
  if (node.state === 'restarting') return `${node.name}: restarting…; ${runs}`;
  return `${node.name}: ${runs}${node.runningVersion === saved ? ' (up to date)' : ''}`;
}

/** Whether the saved configuration still waits for a restart. */
export function needsRestart(s: Service, savedHere: number | undefined): boolean {
  return (
    s.pendingRestart ||
    s.savedVersion > s.targetVersion ||
    (savedHere !== undefined && s.targetVersion < savedHere)
  );
}

export function isRestarting(s: Service): boolean {
  return s.restartInProgress || s.nodes.some((n) => n.online && n.state === 'restarting');
}

/**
 * "Saved, but takes effect only when the Internet Mail Service restarts":
 * shown after a save and whenever a node runs an older version than the saved
 * one, with Restart now, live progress from the event stream, and each node's
 * version, error or absence. It sits in a slot of fixed height, so nothing
 * moves when it appears.
 */
export function PendingRestartBanner({
  savedHere,
  canWrite,
}: {
  /** The version this session saved last, if any. */
  savedHere: number | undefined;
  canWrite: boolean;
}) {
  const service = useService();
  const restart = useRestartService();
  const [phase, setPhase] = useState<Phase>('idle');
  const [requested, setRequested] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const s = service.data;

  const pending = s ? needsRestart(s, savedHere) : false;
  const restarting = s ? isRestarting(s) || (requested && pending) : false;
  // A node in error, or offline with an error it reported (a crash loop), did not apply it.
  const failed =
    s?.nodes.filter(
      (n) =>
        (n.online && n.state === 'error') ||
        (!n.online && n.lastError && (n.runningVersion ?? 0) < s.targetVersion),
    ) ?? [];
  // Nothing runs the configuration, or an offline node is behind: never say
  // "applied" then; say what waits for what.
  const noNode = s ? !s.nodes.some((n) => n.online) : false;
  const offlineBehind = s
    ? s.nodes.filter((n) => !n.online && (n.runningVersion ?? 0) < s.targetVersion)
    : [];
  const waiting = noNode || offlineBehind.length > 0;

  useEffect(() => {
    if (!s) return;
    if (restarting) {
      clearTimeout(timer.current);
      setPhase('restarting');
    } else if (pending || failed.length > 0) {
      clearTimeout(timer.current);
      setPhase('pending');
    } else if (waiting) {
      clearTimeout(timer.current);
      setPhase('waiting');
      setRequested(false);
    } else {
      setPhase((p) => {
        if (p === 'restarting' || (p === 'pending' && requested)) {
          clearTimeout(timer.current);
          timer.current = setTimeout(() => setPhase('idle'), APPLIED_MS);
          return 'applied';
        }
        return p === 'applied' ? p : 'idle';
      });
      setRequested(false);
    }
  }, [s, pending, restarting, failed.length, requested, waiting]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const doRestart = () => {
    setRequested(true);
    restart.mutate(undefined, { onError: () => setRequested(false) });
  };

  let body: React.ReactNode = null;
  if (service.error && !s) {
    body = <p className="banner-text">Service status unavailable: {messageOf(service.error)}</p>;
  } else if (s && phase !== 'idle') {
    const nodes = s.nodes;
    body = (
      <>
        <div className="banner-main">
          <p className="banner-text">
            {phase === 'applied' ? (
              <>Applied: the Internet Mail Service runs version {s.savedVersion}.</>
            ) : phase === 'waiting' && noNode ? (
              <>
                No SMTP node is running: version {s.targetVersion} takes effect when the Internet
                Mail Service attaches.
              </>
            ) : phase === 'waiting' ? (
              <>
                Version {s.targetVersion} runs on every online node. Not yet on{' '}
                {offlineBehind.map((n) => n.name).join(', ')} (offline): it applies it when it
                attaches.
              </>
            ) : phase === 'restarting' ? (
              <>Restarting the Internet Mail Service… (applying version {s.savedVersion})</>
            ) : failed.length > 0 && !pending ? (
              <>
                The Internet Mail Service could not apply version {s.targetVersion} on every node.
              </>
            ) : (
              <>
                Changes saved (version {s.savedVersion}). They take effect only when the Internet
                Mail Service restarts.
              </>
            )}
          </p>
          {canWrite && phase === 'pending' ? (
            <button type="button" onClick={doRestart} disabled={restart.isPending}>
              Restart now
            </button>
          ) : null}
        </div>
        {restart.error ? (
          <p className="field-error">Restart failed: {messageOf(restart.error)}</p>
        ) : null}
        <ul className="banner-nodes" aria-label="SMTP nodes">
          {nodes.length === 0 ? (
            <li>
              No SMTP node is attached: a node applies the version it is told to run when it
              attaches.
            </li>
          ) : (
            nodes.map((n) => (
              <li
                key={n.id}
                className={
                  n.state === 'error' ? 'node-error' : !n.online ? 'node-offline' : undefined
                }
              >
                {nodeLine(n, s.savedVersion)}
              </li>
            ))
          )}
        </ul>
      </>
    );
  }
  return (
    <div className="banner-slot">
      <div
        className={`banner ${body ? `banner-${phase}` : 'banner-empty'}`}
        role="status"
        aria-live="polite"
        aria-label="Internet Mail Service status"
      >
        {body}
      </div>
    </div>
  );
}
