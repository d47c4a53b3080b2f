import { type KeyboardEvent, type ReactNode, useRef } from 'react';

export interface ListColumn<T> {
  header: string;
  cell: (row: T, index: number) => ReactNode;
  width?: string;
}

export interface ListViewProps<T> {
  label: string;
  columns: ListColumn<T>[];
  rows: readonly T[];
  selected: number | null;
  onSelect: (index: number | null) => void;
  /** Enter or double-click on a row. */
  onActivate?: (index: number) => void;
  /** Delete on a row. */
  onDelete?: (index: number) => void;
  disabled?: boolean;
  emptyText?: string;
  /** Rows to mark as having an error (JSON Pointer errors beside the list). */
  invalid?: (index: number) => boolean;
  height?: number;
}

/**
 * The NT list view (report mode) as an ARIA grid: one row selected, arrows
 * move, Enter edits, Delete removes; disabled as a whole like the original.
 */
export function ListView<T>({
  label,
  columns,
  rows,
  selected,
  onSelect,
  onActivate,
  onDelete,
  disabled = false,
  emptyText = '(none)',
  invalid,
  height = 140,
}: ListViewProps<T>) {
  const body = useRef<HTMLTableSectionElement>(null);
  const focusRow = (index: number) => {
    onSelect(index);
    requestAnimationFrame(() => {
      // Only while focus is still in the list (an Enter may have opened a dialog since).
      if (!body.current?.contains(document.activeElement)) return;
      body.current.querySelectorAll<HTMLElement>('tr')[index]?.focus();
    });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTableRowElement>, index: number) => {
    if (disabled) return;
    const last = rows.length - 1;
    const go: Record<string, number> = {
      ArrowDown: Math.min(index + 1, last),
      ArrowUp: Math.max(index - 1, 0),
      Home: 0,
      End: last,
    };
    if (event.key in go) {
      event.preventDefault();
      focusRow(go[event.key] ?? index);
    } else if (event.key === 'Enter' && onActivate) {
      event.preventDefault();
      onActivate(index);
    } else if (event.key === 'Delete' && onDelete) {
      event.preventDefault();
      onDelete(index);
    } else if (event.key === ' ') {
      event.preventDefault();
      onSelect(index);
    }
  };
  const focusIndex = selected !== null && selected < rows.length ? selected : 0;
  return (
    <div className={`sunken-panel list-view${disabled ? ' is-disabled' : ''}`} style={{ height }}>
      <table
        // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: a table with role=grid is the ARIA APG data-grid pattern; its rows are selectable
        role="grid"
        aria-label={label}
        aria-disabled={disabled || undefined}
        aria-readonly="true"
      >
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col" style={c.width ? { width: c.width } : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="list-empty">
                {emptyText}
              </td>
            </tr>
          ) : (
            rows.map((row, index) => (
              <tr
                key={index}
                aria-selected={selected === index}
                aria-invalid={invalid?.(index) || undefined}
                className={`${selected === index ? 'highlighted' : ''}${invalid?.(index) ? ' row-invalid' : ''}`}
                tabIndex={disabled ? -1 : index === focusIndex ? 0 : -1}
                onClick={() => !disabled && onSelect(index)}
                onDoubleClick={() => !disabled && onActivate?.(index)}
                onKeyDown={(e) => onKeyDown(e, index)}
              >
                {columns.map((c) => (
                  <td key={c.header}>{c.cell(row, index)}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
