import type { FindingBody, Service, VersionSummary } from '@ims/api-client';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { AcknowledgeDialog } from '../../../components/config/acknowledge-dialog';
import { ChangesList } from '../../../components/config/changes-list';
import { ConfirmDialog } from '../../../components/ui/dialog';
import { ListView } from '../../../components/ui/list-view';
import { QueryState } from '../../../components/ui/query-state';
import { isApiProblem, messageOf } from '../../../lib/problem';
import { routingKeys, versionKeys } from '../../../lib/query-keys';
import { useDiff, useRouting } from '../../../lib/routing-queries';
import { useService } from '../../../lib/service-queries';
import { useVersions } from '../api/get-versions';
import { useRestoreVersion } from '../api/restore-version';

/** The changes from version `from` to version `to`, as History's sentences. */
function DiffOf({ from, to, label }: { from: number; to: number; label: string }) {
  const diff = useDiff(from, to);
  return (
    <QueryState
      isPending={diff.isPending}
      error={diff.error}
      onRetry={() => void diff.refetch()}
      what="the changes"
    >
      <ChangesList changes={diff.data?.changes ?? []} label={label} />
    </QueryState>
  );
}

function VersionDiff({ version }: { version: number }) {
  if (version === 1) return <p className="help">Version 1 is the first configuration.</p>;
  return <DiffOf from={version - 1} to={version} label={`Changes in version ${version}`} />;
}

/** What restoring `version` would change in the saved version, shown before the restore is confirmed. */
function RestoreDiff({ saved, version }: { saved: number; version: number }) {
  return (
    <DiffOf
      from={saved}
      to={version}
      label={`Compared with the saved version ${saved}, restoring version ${version} makes these changes`}
    />
  );
}

/**
 * Which version the nodes run, as the list says it: "running" when every
 * online node runs it, "running on a, b" when only some do.
 */
export function runningMark(service: Service | undefined, version: number): string | undefined {
  const online = service?.nodes.filter((n) => n.online) ?? [];
  const on = online.filter((n) => n.runningVersion === version).map((n) => n.name);
  if (on.length === 0) return undefined;
  return on.length === online.length ? 'running' : `running on ${on.join(', ')}`;
}

/** History: every saved version, what each changed, and Restore. */
export function HistoryTab({ canWrite, dirty }: { canWrite: boolean; dirty: boolean }) {
  const queryClient = useQueryClient();
  const versions = useVersions();
  const routing = useRouting();
  const service = useService();
  const restore = useRestoreVersion();
  // The selected version (not a row position: a new save adds a row on top).
  // Undefined until the list first loads, when the newest version is chosen.
  const [selected, setSelected] = useState<number | null | undefined>(undefined);
  const [confirm, setConfirm] = useState(false);
  const [ack, setAck] = useState<FindingBody[] | null>(null);
  const rows: VersionSummary[] = versions.data?.pages.flatMap((p) => p.versions) ?? [];
  const selectedIndex = rows.findIndex((v) => v.version === selected);
  const current = selectedIndex >= 0 ? rows[selectedIndex] : undefined;
  const newest = rows[0]?.version;
  const saved = routing.data?.version;
  const serviceSaved = service.data?.savedVersion;

  useEffect(() => {
    if (selected === undefined && newest !== undefined) setSelected(newest);
  }, [selected, newest]);

  // A save made elsewhere arrives with the service status (the event
  // stream): fetch the list and the saved configuration it names.
  useEffect(() => {
    if (serviceSaved === undefined) return;
    if (newest !== undefined && serviceSaved > newest)
      void queryClient.invalidateQueries({ queryKey: versionKeys.list() });
    if (saved !== undefined && serviceSaved > saved)
      void queryClient.invalidateQueries({ queryKey: routingKeys.current() });
  }, [queryClient, serviceSaved, newest, saved]);

  const doRestore = (acknowledge?: string[]) => {
    if (!current || !routing.data) return;
    setConfirm(false);
    setAck(null);
    restore.mutate(
      {
        version: current.version,
        etag: routing.data.etag,
        ...(acknowledge ? { acknowledge } : {}),
      },
      {
        onError: (err) => {
          if (isApiProblem(err, 422) && err.slug === 'unacknowledged-findings') {
            setAck((err.body.findings as FindingBody[] | undefined) ?? []);
          }
        },
      },
    );
  };

  return (
    <QueryState
      isPending={versions.isPending}
      error={versions.error}
      onRetry={() => void versions.refetch()}
      what="the history"
    >
      <div className="history">
        <ListView
          label="Versions"
          columns={[
            {
              header: 'Version',
              cell: (v: VersionSummary) => {
                const marks = [
                  v.version === saved ? 'saved' : undefined,
                  runningMark(service.data, v.version),
                ].filter((m) => m !== undefined);
                return marks.length ? `${v.version} (${marks.join(', ')})` : v.version;
              },
            },
            { header: 'Saved', cell: (v) => new Date(v.savedAt).toLocaleString() },
            { header: 'By', cell: (v) => v.savedBy },
            { header: 'Comment', cell: (v) => v.comment ?? '' },
          ]}
          rows={rows}
          selected={selectedIndex >= 0 ? selectedIndex : null}
          onSelect={(i) => setSelected(i === null ? null : (rows[i]?.version ?? null))}
          height={170}
        />
        <div className="list-buttons">
          {versions.hasNextPage ? (
            <button
              type="button"
              onClick={() => void versions.fetchNextPage()}
              disabled={versions.isFetchingNextPage}
            >
              Older versions
            </button>
          ) : null}
          {canWrite ? (
            <button
              type="button"
              disabled={!current || current.version === saved || restore.isPending || !routing.data}
              onClick={() => setConfirm(true)}
            >
              Restore
            </button>
          ) : null}
        </div>
        {restore.error && !ack ? (
          <p role="alert" className="field-error">
            Restore failed: {messageOf(restore.error)}
          </p>
        ) : null}
        {restore.data ? (
          <p role="status">
            Restored as version {restore.data.version}. It takes effect when the Internet Mail
            Service restarts.
          </p>
        ) : null}
        {current ? <VersionDiff version={current.version} /> : null}
        {confirm && current && saved !== undefined ? (
          <ConfirmDialog
            title="Restore version"
            confirmLabel="Restore"
            onConfirm={() => doRestore()}
            onCancel={() => setConfirm(false)}
          >
            <p>
              Save a new version equal to version {current.version}? It takes effect when the
              Internet Mail Service restarts.
              {dirty
                ? ' Your unsaved changes on the Routing tab will be based on an older version.'
                : ''}
            </p>
            <RestoreDiff saved={saved} version={current.version} />
          </ConfirmDialog>
        ) : null}
        {ack ? (
          <AcknowledgeDialog
            findings={ack}
            onCancel={() => setAck(null)}
            onConfirm={() => doRestore(ack.map((f) => f.id))}
          />
        ) : null}
      </div>
    </QueryState>
  );
}
