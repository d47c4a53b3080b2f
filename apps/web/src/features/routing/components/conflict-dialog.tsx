import { diffConfigs, type RoutingConfig } from '@ims/routing-core';
import { ChangesList } from '../../../components/config/changes-list';
import { Dialog } from '../../../components/ui/dialog';
import { QueryState } from '../../../components/ui/query-state';
import { useDiff } from '../../../lib/routing-queries';

export interface ConflictInfo {
  currentVersion: number;
  savedBy: string;
  savedAt: string;
}

/** 412: someone saved a newer version. Who and when, what they changed, and the way out. */
export function ConflictDialog({
  conflict,
  baseVersion,
  baseConfig,
  draft,
  onReload,
  onReapply,
  onClose,
}: {
  conflict: ConflictInfo;
  baseVersion: number;
  baseConfig: RoutingConfig;
  draft: RoutingConfig;
  onReload: () => void;
  onReapply: () => void;
  onClose: () => void;
}) {
  const theirs = useDiff(baseVersion, conflict.currentVersion);
  const mine = diffConfigs(baseConfig, draft);
  return (
    <Dialog
      title="Newer version saved"
      role="alertdialog"
      width={560}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onReapply}>
            Re-apply my changes
          </button>
          <button type="button" onClick={onReload}>
            Reload
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </>
      }
    >
      <p className="conflict-who">
        Version {conflict.currentVersion} was saved by <strong>{conflict.savedBy}</strong> at{' '}
        <time dateTime={conflict.savedAt}>{new Date(conflict.savedAt).toLocaleString()}</time>,
        after you started editing version {baseVersion}. Your changes were not saved.
      </p>
      <QueryState
        isPending={theirs.isPending}
        error={theirs.error}
        onRetry={() => void theirs.refetch()}
        what="the difference"
      >
        <ChangesList
          changes={theirs.data?.changes ?? []}
          label={`Changed by ${conflict.savedBy} (version ${baseVersion} → ${conflict.currentVersion})`}
        />
      </QueryState>
      <ChangesList changes={mine} label="Your unsaved changes" />
      <p className="help">
        <strong>Reload</strong> discards your changes and shows version {conflict.currentVersion}.{' '}
        <strong>Re-apply my changes</strong> puts what you changed on top of version{' '}
        {conflict.currentVersion} (their other changes stay); review it, then press Apply.
      </p>
    </Dialog>
  );
}
