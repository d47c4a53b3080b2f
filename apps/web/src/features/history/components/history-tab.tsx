import type { FindingBody, VersionSummary } from '@ims/api-client';
import { useState } from 'react';
import { AcknowledgeDialog } from '../../../components/config/acknowledge-dialog';
import { ChangesList } from '../../../components/config/changes-list';
import { ConfirmDialog } from '../../../components/ui/dialog';
import { ListView } from '../../../components/ui/list-view';
import { QueryState } from '../../../components/ui/query-state';
import { isApiProblem, messageOf } from '../../../lib/problem';
import { useDiff, useRouting } from '../../../lib/routing-queries';
import { useVersions } from '../api/get-versions';
import { useRestoreVersion } from '../api/restore-version';

function VersionDiff({ version }: { version: number }) {
  const diff = useDiff(version > 1 ? version - 1 : undefined, version);
  if (version === 1) return <p className="help">Version 1 is the first configuration.</p>;
  return (
    <QueryState
      isPending={diff.isPending}
      error={diff.error}
      onRetry={() => void diff.refetch()}
      what="the changes"
    >
      <ChangesList changes={diff.data?.changes ?? []} label={`Changes in version ${version}`} />
    </QueryState>
  );
}

/** History: every saved version, what each changed, and Restore. */
export function HistoryTab({ canWrite, dirty }: { canWrite: boolean; dirty: boolean }) {
  const versions = useVersions();
  const routing = useRouting();
  const restore = useRestoreVersion();
  const [selected, setSelected] = useState<number | null>(0);
  const [confirm, setConfirm] = useState(false);
  const [ack, setAck] = useState<FindingBody[] | null>(null);
  const rows: VersionSummary[] = versions.data?.pages.flatMap((p) => p.versions) ?? [];
  const current = selected !== null ? rows[selected] : undefined;
  const saved = routing.data?.version;

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
              cell: (v: VersionSummary) =>
                v.version === saved ? `${v.version} (saved)` : v.version,
            },
            { header: 'Saved', cell: (v) => new Date(v.savedAt).toLocaleString() },
            { header: 'By', cell: (v) => v.savedBy },
            { header: 'Comment', cell: (v) => v.comment ?? '' },
          ]}
          rows={rows}
          selected={selected}
          onSelect={setSelected}
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
        {confirm && current ? (
          <ConfirmDialog
            title="Restore version"
            confirmLabel="Restore"
            onConfirm={() => doRestore()}
            onCancel={() => setConfirm(false)}
          >
            <p>
              Save a new version equal to version {current.version}?
              {dirty
                ? ' Your unsaved changes on the Routing tab will be based on an older version.'
                : ''}
            </p>
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
