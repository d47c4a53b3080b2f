/**
 * What the rest of the console knows of the property sheet's routing draft:
 * whether it has unsaved edits, the version it is based on, and the sheet's
 * Apply (with its confirmations). The sheet provides it; the restart banner
 * reads it to ask "Apply your changes first?" rather than restart the saved
 * version while other edits are on screen. A shared place, so no feature
 * imports another.
 */

import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';

/**
 * Saves the draft as the sheet's Apply does (critical findings are confirmed,
 * a conflict is shown): resolves with the version saved, or undefined when
 * nothing was saved (cancelled, refused, a newer version in the way).
 */
export type ApplyDraft = () => Promise<number | undefined>;

export interface UnsavedDraft {
  /** The draft differs from the saved version it is based on. */
  dirty: boolean;
  /** The saved version the draft is based on. */
  baseVersion: number | undefined;
  /** The sheet's Apply; undefined while no sheet is open to apply from. */
  apply: ApplyDraft | undefined;
}

interface UnsavedDraftContext extends UnsavedDraft {
  provideApply: (apply: ApplyDraft | undefined) => void;
}

const Context = createContext<UnsavedDraftContext>({
  dirty: false,
  baseVersion: undefined,
  apply: undefined,
  provideApply: () => {},
});

/** Holds the draft's state for everything under it; `dirty` and `baseVersion` come from the draft's owner. */
export function UnsavedDraftProvider({
  dirty,
  baseVersion,
  children,
}: {
  dirty: boolean;
  baseVersion: number | undefined;
  children: ReactNode;
}) {
  const [apply, setApply] = useState<{ fn: ApplyDraft } | undefined>(undefined);
  const provideApply = useCallback(
    (fn: ApplyDraft | undefined) => setApply(fn ? { fn } : undefined),
    [],
  );
  const value = useMemo(
    () => ({ dirty, baseVersion, apply: apply?.fn, provideApply }),
    [dirty, baseVersion, apply, provideApply],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

/** The draft as the rest of the console sees it. */
export function useUnsavedDraft(): UnsavedDraft {
  const { dirty, baseVersion, apply } = useContext(Context);
  return { dirty, baseVersion, apply };
}

/** For the sheet: offers its Apply to the rest of the console (undefined withdraws it). */
export function useProvideApply(): (apply: ApplyDraft | undefined) => void {
  return useContext(Context).provideApply;
}
