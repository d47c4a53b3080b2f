import type { IpEntry } from '@ims/routing-core';
import { useState } from 'react';
import { ListView } from '../../../components/ui/list-view';
import { FieldErrors } from './field-errors';
import { IpEntryDialog } from './ip-entry-dialog';

/** An IP address + subnet mask list with Add..., Edit... and Remove, as in the restrictions dialog. */
export function IpList({
  label,
  entries,
  onChange,
  disabled = false,
  errors = {},
  showLegend = false,
}: {
  label: string;
  entries: IpEntry[];
  onChange: (entries: IpEntry[]) => void;
  disabled?: boolean;
  /** Field errors keyed by pointer relative to the list (`/0/ip`). */
  errors?: Record<string, string>;
  /** Show the list's name as a visible legend (else it is for assistive technology only). */
  showLegend?: boolean;
}) {
  const [selected, setSelected] = useState<number | null>(null);
  const [editing, setEditing] = useState<number | 'new' | null>(null);
  const current = selected !== null && selected < entries.length ? selected : null;
  const remove = (index: number) => {
    onChange(entries.filter((_, i) => i !== index));
    setSelected(entries.length > 1 ? Math.min(index, entries.length - 2) : null);
  };
  return (
    <fieldset className="ip-list">
      <legend className={showLegend ? 'list-legend' : 'visually-hidden'}>{label}</legend>
      <ListView
        label={label}
        columns={[
          { header: 'IP address', cell: (e: IpEntry) => e.ip },
          { header: 'Subnet mask', cell: (e: IpEntry) => e.mask },
        ]}
        rows={entries}
        selected={current}
        onSelect={setSelected}
        onActivate={(i) => setEditing(i)}
        onDelete={remove}
        disabled={disabled}
        height={92}
        invalid={(i) => Object.keys(errors).some((p) => p.startsWith(`/${i}/`) || p === `/${i}`)}
      />
      <div className="list-buttons">
        <button type="button" disabled={disabled} onClick={() => setEditing('new')}>
          Add...
        </button>
        <button
          type="button"
          disabled={disabled || current === null}
          onClick={() => setEditing(current)}
        >
          Edit...
        </button>
        <button
          type="button"
          disabled={disabled || current === null}
          onClick={() => current !== null && remove(current)}
        >
          Remove
        </button>
      </div>
      <FieldErrors errors={errors} describe={(p) => `Entry ${Number(p.split('/')[1]) + 1}`} />
      {editing !== null ? (
        <IpEntryDialog
          title={editing === 'new' ? 'Add IP address' : 'Edit IP address'}
          entry={editing === 'new' ? null : (entries[editing] ?? null)}
          onClose={() => setEditing(null)}
          onSave={(entry) => {
            if (editing === 'new') {
              onChange([...entries, entry]);
              setSelected(entries.length);
            } else {
              onChange(entries.map((e, i) => (i === editing ? entry : e)));
            }
            setEditing(null);
          }}
        />
      ) : null}
    </fieldset>
  );
}
