import type { FindingBody } from '@ims/api-client';
import { ConfirmDialog } from '../ui/dialog';

/** Saving with critical findings needs an explicit confirmation (sent as `acknowledge`). */
export function AcknowledgeDialog({
  findings,
  onConfirm,
  onCancel,
}: {
  findings: readonly FindingBody[];
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmDialog
      title="Save with critical findings?"
      confirmLabel="Save anyway"
      cancelLabel="Cancel"
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <p>This configuration has critical findings:</p>
      <ul className="findings-ack">
        {findings.map((f) => (
          <li key={f.id} className="finding critical">
            {f.message} <span className="finding-reference">({f.reference})</span>
          </li>
        ))}
      </ul>
      <p>Save it anyway? Your acknowledgement is recorded in the audit log.</p>
    </ConfirmDialog>
  );
}
