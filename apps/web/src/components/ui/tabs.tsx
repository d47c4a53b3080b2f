import { type KeyboardEvent, useRef } from 'react';

export interface TabItem {
  id: string;
  label: string;
}

/** Property-sheet tabs: a tablist with arrow-key movement (automatic activation). */
export function Tabs({
  items,
  current,
  onChange,
  label,
}: {
  items: readonly TabItem[];
  current: string;
  onChange: (id: string) => void;
  label: string;
}) {
  const list = useRef<HTMLMenuElement>(null);
  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!delta && event.key !== 'Home' && event.key !== 'End') return;
    event.preventDefault();
    const next =
      event.key === 'Home'
        ? 0
        : event.key === 'End'
          ? items.length - 1
          : (index + delta + items.length) % items.length;
    const item = items[next];
    if (!item) return;
    onChange(item.id);
    list.current?.querySelectorAll<HTMLElement>('[role=tab]')[next]?.focus();
  };
  return (
    // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: 98.css draws tabs as menu[role=tablist] > li[role=tab]
    <menu role="tablist" aria-label={label} ref={list} className="sheet-tabs">
      {items.map((item, index) => (
        <li
          key={item.id}
          // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: 98.css draws tabs as menu[role=tablist] > li[role=tab]
          role="tab"
          id={`tab-${item.id}`}
          aria-selected={item.id === current}
          aria-controls={item.id === current ? `panel-${item.id}` : undefined}
          tabIndex={item.id === current ? 0 : -1}
          onClick={() => onChange(item.id)}
          onKeyDown={(e) => onKeyDown(e, index)}
        >
          {item.label}
        </li>
      ))}
    </menu>
  );
}
