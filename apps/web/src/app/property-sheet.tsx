import type { FindingBody, ImpactChange, ImpactResult } from '@ims/api-client';
import { advise, applyFix, type Finding, type RoutingConfig } from '@ims/routing-core';
import { lazy, Suspense, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import { AcknowledgeDialog } from '../components/config/acknowledge-dialog';
import { ConfirmDialog } from '../components/ui/dialog';
import { QueryState } from '../components/ui/query-state';
import { Tabs } from '../components/ui/tabs';
import { useMailboxes } from '../features/mailboxes/api/get-mailboxes';
import { newRefusals, useImpact } from '../features/routing/api/get-impact';
import { useSaveRouting } from '../features/routing/api/save-routing';
import { ConflictDialog, type ConflictInfo } from '../features/routing/components/conflict-dialog';
import { ImpactPanel, ImpactSummary } from '../features/routing/components/impact-panel';
import { RoutingTab } from '../features/routing/components/routing-tab';
import type { RoutingDraft } from '../features/routing/hooks/use-routing-draft';
import { rebaseDraft, sameJson } from '../features/routing/utils/config-utils';
import { useService } from '../features/service/api/get-service';
import { fieldsUnder, isApiProblem, messageOf } from '../lib/problem';
import { getRouting, useRouting } from '../lib/routing-queries';
import { useProvideApply, useProvideSaving } from '../lib/unsaved-draft';

const WhatIfTab = lazy(() =>
  import('../features/what-if/components/what-if-tab').then((m) => ({ default: m.WhatIfTab })),
);
const HistoryTab = lazy(() =>
  import('../features/history/components/history-tab').then((m) => ({ default: m.HistoryTab })),
);
const AuditTab = lazy(() =>
  import('../features/audit/components/audit-tab').then((m) => ({ default: m.AuditTab })),
);
const MailboxesTab = lazy(() =>
  import('../features/mailboxes/components/mailboxes-tab').then((m) => ({
    default: m.MailboxesTab,
  })),
);
const QueuesTab = lazy(() =>
  import('../features/queue/components/queues-tab').then((m) => ({ default: m.QueuesTab })),
);
const RelayTestTab = lazy(() =>
  import('../features/relay-test/components/relay-test-tab').then((m) => ({
    default: m.RelayTestTab,
  })),
);

export const TABS = [
  { id: 'routing', label: 'Routing' },
  { id: 'test', label: 'Test a recipient' },
  { id: 'history', label: 'History' },
  { id: 'audit', label: 'Audit' },
  { id: 'mailboxes', label: 'Mailboxes' },
  { id: 'queues', label: 'Queues' },
  { id: 'relay-test', label: 'Relay test' },
] as const;
export type TabId = (typeof TABS)[number]['id'];

type Then = 'stay' | 'close';
/** Told how a save ended: the version saved, or undefined when nothing was saved. */
type Done = (version: number | undefined) => void;

/** The host part of `host:port` / `[v6]:port` (as the server reads node listen addresses). */
function hostOf(listen: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(listen);
  if (v6?.[1]) return v6[1];
  const colon = listen.lastIndexOf(':');
  return colon > 0 && listen.indexOf(':') === colon ? listen.slice(0, colon) : listen;
}

export interface PropertySheetProps {
  tab: TabId;
  onTab: (tab: TabId) => void;
  /** OK or Cancel: the sheet is left. */
  onClose: () => void;
  canWrite: boolean;
  /**
   * The routing draft. It lives above the sheet, so leaving the sheet any way
   * but Cancel (the browser's Back, say) keeps it for when the sheet opens again.
   */
  draftState: RoutingDraft;
  /** The version this session saved last (for the pending-restart banner). */
  onSaved: (version: number) => void;
}

/**
 * The Internet Mail Service Properties sheet. The routing draft lives here,
 * so switching tabs keeps it; OK saves and leaves, Apply saves and stays,
 * Cancel discards.
 */
export function PropertySheet({
  tab,
  onTab,
  onClose,
  canWrite,
  draftState,
  onSaved,
}: PropertySheetProps) {
  const routing = useRouting();
  const service = useService();
  const mailboxes = useMailboxes();
  const { base, draft, dirty, update, discard, reset } = draftState;
  // The draft as it is now, for a save that finishes after further edits.
  const latestDraft = useRef(draft);
  latestDraft.current = draft;
  const save = useSaveRouting();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saveError, setSaveError] = useState<string | null>(null);
  const [ack, setAck] = useState<{ findings: FindingBody[]; then: Then; done?: Done } | null>(null);
  const [conflict, setConflict] = useState<ConflictInfo | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const impact = useImpact(draft ?? undefined);
  const [refusing, setRefusing] = useState<{
    then: Then;
    acknowledge?: string[];
    done?: Done;
    /** The preview of the draft being saved, the refusals it adds, and that draft. */
    preview: ImpactResult;
    changes: ImpactChange[];
    draft: RoutingConfig;
  } | null>(null);
  // Apply is waiting for the impact preview of the draft it is about to save.
  const [checking, setChecking] = useState(false);

  // Live advice: routing-core runs here on the draft, with what the console
  // knows of the service (listen addresses, mailbox count), like the server.
  const context = useMemo(() => {
    const listen = new Set<string>();
    for (const n of service.data?.nodes ?? []) for (const l of n.listen) listen.add(hostOf(l));
    return {
      listenAddresses: [...listen],
      ...(mailboxes.data ? { mailboxCount: mailboxes.data.mailboxes.length } : {}),
    };
  }, [service.data, mailboxes.data]);
  const deferred = useDeferredValue(draft);
  const findings = useMemo(() => (deferred ? advise(deferred, context) : []), [deferred, context]);

  // The check of the draft being applied: `busy` while its preview is
  // awaited; `run` changes when the sheet goes away (or the draft is
  // discarded), so a check that ends afterwards saves nothing.
  const checkRun = useRef({ run: 0, busy: false });
  useEffect(() => {
    const current = checkRun.current;
    return () => {
      current.run++;
    };
  }, []);

  /**
   * Mail the running version accepts would be refused: confirm that first.
   * Asked of the preview of this very draft (waited for when the one on
   * screen is for an earlier draft or still on its way: a click right after
   * an edit must not slip past the question), and only about what the draft
   * adds to the saved version it edits; both previews asked afresh together,
   * so they judge the same traffic. A console that cannot give the preview
   * (no node online, no answer in time) still saves.
   */
  const askAboutRefusals = (
    asked: RoutingConfig,
    savedConfig: RoutingConfig,
    then: Then,
    acknowledge: string[] | undefined,
    done: Done | undefined,
  ) => {
    const run = checkRun.current.run;
    checkRun.current.busy = true;
    setChecking(true);
    void Promise.all([impact.previewOf(asked), impact.previewOf(savedConfig)]).then(
      ([preview, before]) => {
        // Given up meanwhile (Cancel, the sheet closed): nothing is saved.
        if (run !== checkRun.current.run) {
          done?.(undefined);
          return;
        }
        checkRun.current.busy = false;
        setChecking(false);
        const changes = newRefusals(preview, before);
        if (preview && changes.length > 0) {
          setRefusing({
            then,
            ...(acknowledge ? { acknowledge } : {}),
            ...(done ? { done } : {}),
            preview,
            changes,
            draft: asked,
          });
          return;
        }
        doSaveRef.current(then, acknowledge, done, asked);
      },
    );
  };

  /**
   * OK and Apply. `checked` is the draft whose impact was already asked
   * about (and confirmed, if it refuses mail): that very draft is saved.
   */
  const doSave = (then: Then, acknowledge?: string[], done?: Done, checked?: RoutingConfig) => {
    // One Apply at a time: a second one (the banner's "Apply, then restart"
    // while the preview is awaited) gets no version.
    if (!base || !draft || checkRun.current.busy) {
      done?.(undefined);
      return;
    }
    setSaveError(null);
    setNotice(null);
    if (!dirty) {
      done?.(base.version);
      if (then === 'close') onClose();
      return;
    }
    const critical = findings.filter((f) => f.severity === 'critical' && f.code !== 'invalid');
    if (!checked && !acknowledge && critical.length > 0) {
      setAck({ findings: critical, then, ...(done ? { done } : {}) });
      return;
    }
    if (!checked) {
      askAboutRefusals(draft, base.config, then, acknowledge, done);
      return;
    }
    const config = checked;
    save.mutate(
      { config, etag: base.etag, ...(acknowledge ? { acknowledge } : {}) },
      {
        onSuccess: (saved) => {
          // Edits made while the save was on its way stay, as unsaved
          // changes on top of the version just saved.
          const now = latestDraft.current;
          if (now && !sameJson(now, config)) reset(saved, now);
          else reset(saved);
          setErrors({});
          onSaved(saved.version);
          done?.(saved.version);
          if (then === 'close') onClose();
        },
        onError: (err) => {
          const unacknowledged = isApiProblem(err) && err.slug === 'unacknowledged-findings';
          if (!unacknowledged) done?.(undefined);
          if (isApiProblem(err, 412)) {
            const p = err.body as typeof err.body & Partial<ConflictInfo>;
            setConflict({
              currentVersion: Number(p.currentVersion ?? base.version + 1),
              savedBy: String(p.savedBy ?? 'someone'),
              savedAt: String(p.savedAt ?? new Date().toISOString()),
            });
          } else if (isApiProblem(err) && err.slug === 'unacknowledged-findings') {
            setAck({
              findings: (err.body.findings as FindingBody[] | undefined) ?? [],
              then,
              ...(done ? { done } : {}),
            });
          } else if (isApiProblem(err) && err.errors.length) {
            setErrors(fieldsUnder(err.fieldErrors, '/config'));
            setSaveError(messageOf(err));
          } else {
            setSaveError(messageOf(err));
          }
        },
      },
    );
  };

  // The sheet's Apply, offered to the rest of the console (the restart
  // banner's "Apply your changes first?"); it always runs the latest doSave.
  const doSaveRef = useRef(doSave);
  doSaveRef.current = doSave;
  const provideApply = useProvideApply();
  useEffect(() => {
    provideApply(() => new Promise((resolve) => doSaveRef.current('stay', undefined, resolve)));
    return () => provideApply(undefined);
  }, [provideApply]);
  const provideSaving = useProvideSaving();
  useEffect(() => {
    provideSaving(save.isPending || checking);
    return () => provideSaving(false);
  }, [provideSaving, save.isPending, checking]);

  const fix = (finding: Finding) => {
    if (finding.fix) {
      const f = finding.fix;
      update((d) => applyFix(d, f));
    }
  };

  const reload = async () => {
    setConflict(null);
    const latest = await routing.refetch();
    if (latest.data) reset(latest.data);
    setErrors({});
    setNotice('Reloaded: your changes were discarded.');
  };

  const reapply = async () => {
    if (!base || !draft) return;
    setConflict(null);
    try {
      const latest = await getRouting();
      reset(latest, rebaseDraft(base.config, draft, latest.config));
      setNotice(
        `Your changes were re-applied on top of version ${latest.version}. Review them, then press Apply.`,
      );
    } catch (err) {
      setSaveError(messageOf(err));
    }
  };

  const cancel = () => {
    // A check under way saves nothing once the draft is being given up.
    checkRun.current.run++;
    checkRun.current.busy = false;
    setChecking(false);
    if (dirty) setConfirmCancel(true);
    else onClose();
  };

  const critical = findings.filter((f) => f.severity === 'critical').length;

  return (
    <section className="window sheet" aria-labelledby="sheet-title">
      <div className="title-bar">
        <h1 className="title-bar-text" id="sheet-title">
          Internet Mail Service Properties
        </h1>
        <div className="title-bar-controls">
          <button type="button" aria-label="Close" onClick={cancel} />
        </div>
      </div>
      <div className="window-body">
        <Tabs
          items={TABS}
          current={tab}
          onChange={(id) => onTab(id as TabId)}
          label="Property pages"
        />
        <div
          className="window tab-panel"
          role="tabpanel"
          id={`panel-${tab}`}
          aria-labelledby={`tab-${tab}`}
        >
          <div className="window-body">
            <QueryState
              isPending={routing.isPending || !draft}
              error={routing.error}
              onRetry={() => void routing.refetch()}
              what="the routing configuration"
            >
              <Suspense fallback={<p role="status">Loading…</p>}>
                {tab === 'routing' && draft ? (
                  <RoutingTab
                    draft={draft}
                    update={update}
                    errors={errors}
                    findings={findings}
                    onFix={fix}
                    readOnly={!canWrite}
                    impact={
                      <ImpactPanel query={impact.query} draft={draft} pending={impact.pending} />
                    }
                  />
                ) : null}
                {tab === 'test' ? <WhatIfTab draft={draft} /> : null}
                {tab === 'history' ? <HistoryTab canWrite={canWrite} dirty={dirty} /> : null}
                {tab === 'audit' ? <AuditTab /> : null}
                {tab === 'mailboxes' ? <MailboxesTab canWrite={canWrite} /> : null}
                {tab === 'queues' ? <QueuesTab canWrite={canWrite} /> : null}
                {tab === 'relay-test' ? <RelayTestTab /> : null}
              </Suspense>
            </QueryState>
          </div>
        </div>
        <div className="sheet-status" aria-live="polite">
          {saveError ? (
            <p role="alert" className="field-error">
              {saveError}
            </p>
          ) : checking ? (
            <p className="notice">Checking what this change would do to recorded traffic…</p>
          ) : notice ? (
            <p className="notice">{notice}</p>
          ) : dirty ? (
            <p className="notice">
              Unsaved changes (based on version {base?.version}).
              {critical > 0 ? ` ${critical} critical finding${critical > 1 ? 's' : ''}.` : ''}
            </p>
          ) : base ? (
            <p className="notice muted">
              Version {base.version}, saved by {base.savedBy} at{' '}
              {new Date(base.savedAt).toLocaleString()}.
            </p>
          ) : null}
        </div>
        <div className="sheet-buttons">
          <button
            type="button"
            className="default"
            disabled={save.isPending || checking || (!canWrite && dirty)}
            onClick={() => doSave('close')}
          >
            OK
          </button>
          <button type="button" onClick={cancel}>
            Cancel
          </button>
          <button
            type="button"
            disabled={!dirty || !canWrite || save.isPending || checking}
            onClick={() => doSave('stay')}
          >
            Apply
          </button>
        </div>
      </div>
      {ack ? (
        <AcknowledgeDialog
          findings={ack.findings}
          onCancel={() => {
            setAck(null);
            ack.done?.(undefined);
          }}
          onConfirm={() => {
            const { findings: f, then, done } = ack;
            setAck(null);
            doSave(
              then,
              f.map((x) => x.id),
              done,
            );
          }}
        />
      ) : null}
      {refusing ? (
        <ConfirmDialog
          title="Apply a change that refuses mail?"
          confirmLabel="Apply anyway"
          cancelLabel="Keep editing"
          onCancel={() => {
            setRefusing(null);
            refusing.done?.(undefined);
          }}
          onConfirm={() => {
            const { then, acknowledge, done, draft: asked } = refusing;
            setRefusing(null);
            doSave(then, acknowledge, done, asked);
          }}
        >
          <p>Mail that the running version accepts would be refused:</p>
          <ImpactSummary
            impact={refusing.preview}
            draft={refusing.draft}
            changes={refusing.changes}
          />
          <p>Apply it anyway?</p>
        </ConfirmDialog>
      ) : null}
      {conflict && base && draft ? (
        <ConflictDialog
          conflict={conflict}
          baseVersion={base.version}
          baseConfig={base.config}
          draft={draft}
          onClose={() => setConflict(null)}
          onReload={() => void reload()}
          onReapply={() => void reapply()}
        />
      ) : null}
      {confirmCancel ? (
        <ConfirmDialog
          title="Discard changes?"
          confirmLabel="Discard changes"
          cancelLabel="Keep editing"
          onCancel={() => setConfirmCancel(false)}
          onConfirm={() => {
            setConfirmCancel(false);
            discard();
            onClose();
          }}
        >
          <p>You have unsaved changes to the routing configuration. Discard them?</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
