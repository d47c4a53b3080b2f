import type { NodeView, Service } from '@ims/api-client';
import { useEffect, useRef, useState } from 'react';
import { Dialog } from '../../../components/ui/dialog';
import { messageOf } from '../../../lib/problem';
import { type ApplyDraft, useUnsavedDraft } from '../../../lib/unsaved-draft';
import { useService } from '../api/get-service';
import { useRestartService } from '../api/restart-service';
import { useRollbackService } from '../api/rollback-service';

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

/** A rolling restart that stopped at a node, while it is the latest word on the target version. */
function haltedRollout(s: Service) {
  const r = s.rollout;
  return r?.state === 'halted' && r.strategy === 'rolling' && r.version === s.restart.targetVersion
    ? r
    : undefined;
}

/**
 * Restart now with unsaved edits on screen: a restart runs the saved version,
 * not what the screen shows, so ask. Apply saves the draft and restarts only
 * once it is saved; "Restart with version N" restarts the saved version and
 * keeps the edits as a draft; Cancel does neither.
 */
function ApplyFirstDialog({
  savedVersion,
  baseVersion,
  apply,
  onApplyThenRestart,
  onRestartSaved,
  onCancel,
}: {
  savedVersion: number;
  /** The saved version the draft was made on. */
  baseVersion: number | undefined;
  apply: ApplyDraft | undefined;
  onApplyThenRestart: () => void;
  onRestartSaved: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      title="Apply your changes first?"
      role="alertdialog"
      onClose={onCancel}
      width={460}
      initialFocus=".dialog-buttons button:last-child"
      footer={
        <>
          {apply ? (
            <button type="button" onClick={onApplyThenRestart}>
              Apply, then restart
            </button>
          ) : null}
          <button type="button" onClick={onRestartSaved}>
            Restart with version {savedVersion}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </>
      }
    >
      <p>
        The routing configuration has changes that are not saved
        {baseVersion !== undefined ? ` (made on version ${baseVersion})` : ''}. A restart runs the
        saved version, version {savedVersion}, without them.
      </p>
      <p>
        {apply
          ? 'Apply them first, so the restart runs them? Or restart with the saved version and keep your changes as a draft.'
          : 'Open the properties and press Apply to save them first, or restart with the saved version and keep your changes as a draft.'}
      </p>
    </Dialog>
  );
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
  const rollback = useRollbackService();
  const [phase, setPhase] = useState<Phase>('idle');
  const [requested, setRequested] = useState(false);
  const draft = useUnsavedDraft();
  const [askApply, setAskApply] = useState(false);
  const [applying, setApplying] = useState(false);
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

  const [rolling, setRolling] = useState(false);
  const doRestart = (rollingRestart = rolling) => {
    setRequested(true);
    restart.mutate(rollingRestart ? { strategy: 'rolling' } : undefined, {
      onError: () => setRequested(false),
    });
  };

  const onRestartNow = (rollingRestart: boolean) => {
    setRolling(rollingRestart);
    if (draft.dirty) setAskApply(true);
    else doRestart(rollingRestart);
  };
  const halted = s ? haltedRollout(s) : undefined;
  const onContinue = () => {
    if (!halted) return;
    const remaining = halted.order.filter((n) => !halted.done.includes(n) && n !== halted.haltedAt);
    setRequested(true);
    restart.mutate(
      { strategy: 'rolling', order: remaining },
      { onError: () => setRequested(false) },
    );
  };
  const onRollBack = () => {
    setRequested(true);
    rollback.mutate(undefined, { onError: () => setRequested(false) });
  };
  const rollingNow = s?.rollout?.state === 'running' && s.rollout.strategy === 'rolling';
  const busy = restart.isPending || rollback.isPending;

  const applyThenRestart = async (apply: ApplyDraft) => {
    setAskApply(false);
    setApplying(true);
    try {
      // Nothing saved (a finding not confirmed, a conflict, an error the
      // sheet shows): nothing is restarted either.
      if ((await apply()) !== undefined) doRestart();
    } finally {
      setApplying(false);
    }
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
            ) : phase === 'restarting' && rollingNow ? (
              s.restart.summary
            ) : phase === 'failed' && halted ? (
              s.restart.summary
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
          {canWrite && phase === 'failed' && halted ? (
            <span className="banner-actions">
              <button type="button" onClick={onRollBack} disabled={busy}>
                Roll back
              </button>
              {halted.order.some((n) => !halted.done.includes(n) && n !== halted.haltedAt) ? (
                <button type="button" onClick={onContinue} disabled={busy}>
                  Continue
                </button>
              ) : null}
            </span>
          ) : canWrite && (phase === 'pending' || phase === 'failed') ? (
            <span className="banner-actions">
              <button
                type="button"
                onClick={() => onRestartNow(false)}
                // While a save is on its way the draft still looks unsaved: wait for it.
                disabled={busy || applying || draft.saving}
              >
                Restart now
              </button>
              {nodes.length > 1 ? (
                <button
                  type="button"
                  onClick={() => onRestartNow(true)}
                  disabled={busy || applying || draft.saving}
                  title="One node at a time, the first by name being the canary; stops at the first node that cannot apply the version"
                >
                  Rolling restart
                </button>
              ) : null}
            </span>
          ) : null}
        </div>
        {restart.error ? (
          <p className="field-error">Restart failed: {messageOf(restart.error)}</p>
        ) : null}
        {rollback.error ? (
          <p className="field-error">Roll back failed: {messageOf(rollback.error)}</p>
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
      {askApply && s ? (
        <ApplyFirstDialog
          savedVersion={s.savedVersion}
          baseVersion={draft.baseVersion}
          apply={draft.apply}
          onApplyThenRestart={() => draft.apply && void applyThenRestart(draft.apply)}
          onRestartSaved={() => {
            setAskApply(false);
            doRestart();
          }}
          onCancel={() => setAskApply(false)}
        />
      ) : null}
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
