import { type ReactNode, useEffect, useId, useRef } from 'react';
import { createPortal } from 'react-dom';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Open dialogs, innermost last: only the innermost answers Escape and holds focus. */
const openDialogs: object[] = [];

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** The buttons row (OK / Cancel). */
  footer?: ReactNode;
  /** Element to focus first (a selector inside the dialog); default the first field. */
  initialFocus?: string;
  role?: 'dialog' | 'alertdialog';
  width?: number;
  /** Makes the body and footer one form (Enter submits; the footer's submit button is OK). */
  onSubmit?: () => void;
}

/**
 * A modal window in the NT style: title bar with a close box, focus kept
 * inside while open (Tab wraps), Escape closes, focus returns to whatever
 * opened it.
 */
export function Dialog({
  title,
  onClose,
  children,
  footer,
  initialFocus,
  role = 'dialog',
  width = 420,
  onSubmit,
}: DialogProps) {
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const root = ref.current;
    const first =
      (initialFocus ? root?.querySelector<HTMLElement>(initialFocus) : null) ??
      root?.querySelector('.window-body')?.querySelector<HTMLElement>(FOCUSABLE) ??
      root?.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    const me = {};
    openDialogs.push(me);
    const isTop = () => openDialogs.at(-1) === me;
    // Focus that lands outside the topmost dialog is brought back into it,
    // and Escape closes it wherever focus is.
    const onFocusIn = (event: FocusEvent) => {
      if (!isTop() || !root || root.contains(event.target as Node)) return;
      (root.querySelector<HTMLElement>(FOCUSABLE) ?? root).focus();
    };
    const onEscape = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || !isTop() || event.defaultPrevented) return;
      event.preventDefault();
      closeRef.current();
    };
    document.addEventListener('focusin', onFocusIn);
    document.addEventListener('keydown', onEscape);
    return () => {
      document.removeEventListener('focusin', onFocusIn);
      document.removeEventListener('keydown', onEscape);
      openDialogs.splice(openDialogs.indexOf(me), 1);
      if (opener && document.contains(opener)) opener.focus();
    };
  }, [initialFocus]);

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'Tab' || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
      (el) => !el.closest('[inert]'),
    );
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  };

  return createPortal(
    <div className="modal-backdrop">
      {/* biome-ignore lint/a11y/noStaticElementInteractions lint/a11y/useAriaPropsSupportedByRole: role is dialog or alertdialog (a prop); keydown keeps focus inside and closes on Escape */}
      <div
        ref={ref}
        className="window modal"
        role={role}
        aria-modal="true"
        aria-labelledby={titleId}
        style={{ width: `min(${width}px, calc(100vw - 16px))` }}
        onKeyDown={onKeyDown}
      >
        <div className="title-bar">
          <div className="title-bar-text" id={titleId}>
            {title}
          </div>
          <div className="title-bar-controls">
            <button type="button" aria-label="Close" onClick={() => closeRef.current()} />
          </div>
        </div>
        {onSubmit ? (
          <form
            className="window-body"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              onSubmit();
            }}
          >
            {children}
            {footer ? <div className="dialog-buttons">{footer}</div> : null}
          </form>
        ) : (
          <div className="window-body">
            {children}
            {footer ? <div className="dialog-buttons">{footer}</div> : null}
          </div>
        )}
      </div>
    </div>,
    document.body,
  );
}

/** A yes/no question in a dialog (unsaved changes, critical findings). */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  cancelLabel = 'Cancel',
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      title={title}
      role="alertdialog"
      onClose={onCancel}
      initialFocus=".dialog-buttons button:last-child"
      footer={
        <>
          <button type="button" onClick={onConfirm}>
            {confirmLabel}
          </button>
          <button type="button" onClick={onCancel}>
            {cancelLabel}
          </button>
        </>
      }
    >
      {children}
    </Dialog>
  );
}

/** The OK / Cancel footer of a form dialog: OK submits, Cancel closes. */
export function OkCancel({ onCancel }: { onCancel: () => void }) {
  return (
    <>
      <button type="submit" className="default">
        OK
      </button>
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </>
  );
}
