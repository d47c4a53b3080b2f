import type { NodeView, Service } from '@ims/api-client';
import { useEffect, useRef, useState } from 'react';
import { messageOf } from '../../../lib/problem';
import { useService } from '../api/get-service';
import { useRestartService } from '../api/restart-service';

type Phase = 'idle' | 'pending' | 'restarting' | 'applied' | 'failed' | 'waiting';

/** How long "applied" stays before the banner clears. */
export const APPLIED_MS = 4000;

function nodeLine(node: NodeView, saved: number): string {
  const runs =
    node.runningVersion === null ? 'has not started' : `runs version ${node.runningVersion}`;
  if (!node.online) return `${node.name}: offline (last ${runs.replace('runs', 'ran')})`;
  if (node.state === 'error')
    return `${node.name}: could not apply — ${node.lastError ?? 'unknown error'}; ${runs}${queueOf(node)}`;
  if (node.state === 'restarting') return `${node.name}: restarting…; ${runs}${queueOf(node)}`;
  return `${node.name}: ${runs}${node.runningVersion === saved ? ' (up to date)' : ''}${queueOf(node)}`;
}

/** The node's queue, from the counters it reports: "; queue: 3 messages, 1 deferred". */
function queueOf(node: NodeView): string {
  const queued = node.counters.queueMessages;
  if (queued === undefined) return '';
  const deferred = node.counters.queueDeferred ?? 0;
  return `; queue: ${queued} message${queued === 1 ? '' : 's'}, ${deferred} deferred`;
}

/**
 * The phase to show. The console decides where the restart stands
 * (`service.restart`); the banner only adds two things of its own: a save this
 * session made that the status it holds does not show yet (the event stream
 * is a moment behind), and "applied" for a few seconds after a restart it
 * watched end.
 */
export function phaseOf(s: Service, savedHere: number | undefined): Exclude<Phase, 'applied'> {
  if (s.restart.state === 'idle' && savedHere !== undefined && savedHere > s.savedVersion)
    return 'pending';
  return s.restart.state;
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
  const shown = s ? phaseOf(s, savedHere) : 'idle';

  useEffect(() => {
    if (!s) return;
    if (shown === 'idle') {
      setPhase((p) => {
        if (p === 'restarting' || (p === 'pending' && requested)) {
          clearTimeout(timer.current);
          timer.current = setTimeout(() => setPhase('idle'), APPLIED_MS);
          return 'applied';
        }
        return p === 'applied' ? p : 'idle';
      });
      setRequested(false);
      return;
    }
    clearTimeout(timer.current);
    // Between Restart now and the console's first word on it, say so.
    setPhase(requested && shown === 'pending' ? 'restarting' : shown);
    if (shown !== 'pending') setRequested(false);
  }, [s, shown, requested]);
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
              <>Applied: the Internet Mail Service runs version {s.restart.targetVersion}.</>
            ) : phase === 'restarting' ? (
              <>Restarting the Internet Mail Service… (applying version {s.savedVersion})</>
            ) : phase === 'failed' ? (
              <>
                The Internet Mail Service could not apply version {s.restart.targetVersion} on every
                node.
              </>
            ) : phase === 'pending' && savedHere !== undefined && savedHere >= s.savedVersion ? (
              <>
                Changes saved (version {savedHere}). They take effect only when the Internet Mail
                Service restarts.
              </>
            ) : phase === 'pending' ? (
              <>
                Version {s.savedVersion} saved by {s.savedBy}. It takes effect only when the
                Internet Mail Service restarts.
              </>
            ) : (
              s.restart.summary
            )}
          </p>
          {canWrite && (phase === 'pending' || phase === 'failed') ? (
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
