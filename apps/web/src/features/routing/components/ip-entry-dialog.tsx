import { type IpEntry, parseIpEntry } from '@ims/routing-core';
import { useId, useState } from 'react';
import { Dialog } from '../../../components/ui/dialog';

/** Add or edit an IP address + subnet mask entry (a single host is mask 255.255.255.255). */
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

  const submit = () => {
    const parsed = parseIpEntry(ip.trim(), mask.trim() || undefined);
    if (!ip.trim()) return setError('Type an IP address.');
    if ('error' in parsed) return setError(parsed.error);
    onSave({ ip: ip.trim(), mask: mask.trim() || '255.255.255.255' });
  };

  return (
    <Dialog
      title={title}
      onClose={onClose}
      onSubmit={submit}
      width={340}
      footer={
        <>
          <button type="submit" className="default">
            OK
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </>
      }
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
        />
        <p id={`${id}-mask-help`} className="help">
          255.255.255.255 for a single host; a network with its mask (or a prefix length, as IPv6
          needs).
        </p>
      </div>
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </Dialog>
  );
}
