import { type IpEntry, normalizeEntry } from '@ims/routing-core';
import { useId, useState } from 'react';
import { Dialog, OkCancel } from '../../../components/ui/dialog';

/**
 * Add or edit an IP address + subnet mask entry (a single host is mask
 * 255.255.255.255). The entry shows its normalised form as soon as a field
 * is left (`192.168.1.7` with `255.255.255.0` becomes the network
 * `192.168.1.0`, and says so), and is saved that way.
 */
export function IpEntryDialog({
  title,
  entry,
  onSave,
  onClose,
}: {
  title: string;
  entry: IpEntry | null;
  onSave: (entry: IpEntry) => void;
  onClose: () => void;
}) {
  const id = useId();
  const [ip, setIp] = useState(entry?.ip ?? '');
  const [mask, setMask] = useState(entry?.mask ?? '255.255.255.255');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const normalised = () => {
    const trimmedMask = mask.trim();
    return normalizeEntry({ ip: ip.trim(), ...(trimmedMask ? { mask: trimmedMask } : {}) });
  };

  /** Shows the entry as it will be stored, once both fields parse. */
  const normalise = () => {
    if (!ip.trim()) return;
    const n = normalised();
    if (!n.ok) return;
    setIp(n.value.ip);
    setMask(n.value.mask);
    setNotice(n.notice ?? null);
    setError(null);
  };

  const submit = () => {
    if (!ip.trim()) return setError('Type an IP address.');
    const n = normalised();
    if (!n.ok) return setError(n.errors.map((e) => e.message).join(' '));
    onSave(n.value);
  };

  return (
    <Dialog
      title={title}
      onClose={onClose}
      onSubmit={submit}
      width={340}
      footer={<OkCancel onCancel={onClose} />}
    >
      <div className="field-row-stacked">
        <label htmlFor={`${id}-ip`}>IP address:</label>
        <input
          id={`${id}-ip`}
          type="text"
          inputMode="decimal"
          value={ip}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={!!error}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(e) => setIp(e.target.value)}
          onBlur={normalise}
        />
      </div>
      <div className="field-row-stacked">
        <label htmlFor={`${id}-mask`}>Subnet mask:</label>
        <input
          id={`${id}-mask`}
          type="text"
          value={mask}
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-mask-help`}
          onChange={(e) => setMask(e.target.value)}
          onBlur={normalise}
        />
        <p id={`${id}-mask-help`} className="help">
          255.255.255.255 for a single host; a network with its mask (or a prefix length, as IPv6
          needs).
        </p>
      </div>
      {notice && !error ? (
        <p className="help" role="status">
          {notice}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </Dialog>
  );
}
