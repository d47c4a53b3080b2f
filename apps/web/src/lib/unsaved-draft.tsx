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
  /**
   * A save is on its way. The console may announce the new version (the
   * event stream) before the save's answer arrives: until it does, the
   * draft still looks unsaved.
   */
  saving: boolean;
}

interface UnsavedDraftContext extends UnsavedDraft {
  provideApply: (apply: ApplyDraft | undefined) => void;
  provideSaving: (saving: boolean) => void;
}

const Context = createContext<UnsavedDraftContext>({
  dirty: false,
  baseVersion: undefined,
  apply: undefined,
  saving: false,
  provideApply: () => {},
  provideSaving: () => {},
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
  const [saving, provideSaving] = useState(false);
  const provideApply = useCallback(
    (fn: ApplyDraft | undefined) => setApply(fn ? { fn } : undefined),
    [],
  );
  const value = useMemo(
    () => ({ dirty, baseVersion, apply: apply?.fn, saving, provideApply, provideSaving }),
    [dirty, baseVersion, apply, saving, provideApply],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

/** The draft as the rest of the console sees it. */
export function useUnsavedDraft(): UnsavedDraft {
  const { dirty, baseVersion, apply, saving } = useContext(Context);
  return { dirty, baseVersion, apply, saving };
}

/** For the sheet: offers its Apply to the rest of the console (undefined withdraws it). */
export function useProvideApply(): (apply: ApplyDraft | undefined) => void {
  return useContext(Context).provideApply;
}

/** For the sheet: tells the rest of the console whether a save is on its way. */
export function useProvideSaving(): (saving: boolean) => void {
  return useContext(Context).provideSaving;
}
