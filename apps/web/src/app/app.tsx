import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ConfirmDialog } from '../components/ui/dialog';
import { QueryState } from '../components/ui/query-state';
import {
  ChangePasswordDialog,
  SessionsDialog,
} from '../features/account/components/account-dialog';
import { sessionKeys, useSession } from '../features/auth/api/get-session';
import { useSignOut } from '../features/auth/api/sign-out';
import { SignInPage } from '../features/auth/components/sign-in-page';
import { type RoutingDraft, useRoutingDraft } from '../features/routing/hooks/use-routing-draft';
import { PendingRestartBanner } from '../features/service/components/pending-restart-banner';
import { useServiceEvents } from '../features/service/hooks/use-service-events';
import { setUnauthenticatedHandler } from '../lib/api-client';
import { useRouting } from '../lib/routing-queries';
import { UnsavedDraftProvider } from '../lib/unsaved-draft';
import { PropertySheet, TABS, type TabId } from './property-sheet';
import { navigate, usePath } from './router';

const tabOf = (path: string): TabId | 'closed' => {
  const segment = path.replace(/^\/+|\/+$/g, '');
  if (segment === 'closed') return 'closed';
  return TABS.find((t) => t.id === segment)?.id ?? 'routing';
};

/**
 * The routing draft lives here, above the sheet and the banner: the sheet
 * edits it, and the banner learns of it through lib/unsaved-draft.
 */
function Console({ username, canWrite }: { username: string; canWrite: boolean }) {
  const routing = useRouting();
  const draftState = useRoutingDraft(routing.data);
  return (
    <UnsavedDraftProvider dirty={draftState.dirty} baseVersion={draftState.base?.version}>
      <Desktop username={username} canWrite={canWrite} draftState={draftState} />
    </UnsavedDraftProvider>
  );
}

function Desktop({
  username,
  canWrite,
  draftState,
}: {
  username: string;
  canWrite: boolean;
  draftState: RoutingDraft;
}) {
  const path = usePath();
  const view = tabOf(path);
  const signOut = useSignOut();
  const dirty = draftState.dirty;
  const [confirmSignOut, setConfirmSignOut] = useState(false);
  const [account, setAccount] = useState<'password' | 'sessions' | undefined>(undefined);
  const [savedHere, setSavedHere] = useState<number | undefined>(undefined);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  useServiceEvents();

  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (!dirtyRef.current) return;
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, []);

  useEffect(() => {
    if (path === '/' || path === '/sign-in') navigate('/routing', { replace: true });
  }, [path]);

  return (
    <div className="desktop">
      <header className="app-bar">
        <span className="app-name">IMS Routing Console</span>
        <span className="app-user">
          Signed in as <strong>{username}</strong>
          {canWrite ? null : ' (read-only)'}
        </span>
        {canWrite ? (
          <>
            <button type="button" onClick={() => setAccount('password')}>
              Change password…
            </button>
            <button type="button" onClick={() => setAccount('sessions')}>
              Sessions…
            </button>
          </>
        ) : null}
        <button
          type="button"
          onClick={() => (dirty ? setConfirmSignOut(true) : signOut.mutate())}
          disabled={signOut.isPending}
        >
          Sign out
        </button>
      </header>
      <main className="workspace">
        <PendingRestartBanner savedHere={savedHere} canWrite={canWrite} />
        {view === 'closed' ? (
          <section className="window closed-window" aria-labelledby="closed-title">
            <div className="title-bar">
              <h1 className="title-bar-text" id="closed-title">
                Microsoft Exchange Administrator
              </h1>
            </div>
            <div className="window-body">
              <p>Internet Mail Service — the properties sheet is closed.</p>
              <button type="button" onClick={() => navigate('/routing')}>
                Properties...
              </button>
            </div>
          </section>
        ) : (
          <PropertySheet
            tab={view}
            onTab={(t) => navigate(`/${t}`)}
            onClose={() => navigate('/closed')}
            canWrite={canWrite}
            draftState={draftState}
            onSaved={setSavedHere}
          />
        )}
      </main>
      {account === 'password' ? (
        <ChangePasswordDialog onClose={() => setAccount(undefined)} />
      ) : null}
      {account === 'sessions' ? <SessionsDialog onClose={() => setAccount(undefined)} /> : null}
      {confirmSignOut ? (
        <ConfirmDialog
          title="Sign out?"
          confirmLabel="Discard changes and sign out"
          cancelLabel="Keep editing"
          onCancel={() => setConfirmSignOut(false)}
          onConfirm={() => {
            setConfirmSignOut(false);
            signOut.mutate();
          }}
        >
          <p>You have unsaved changes to the routing configuration. Sign out and lose them?</p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** Signed in: the console; signed out: the sign-in window. */
export function App() {
  const queryClient = useQueryClient();
  const session = useSession();
  useEffect(() => {
    setUnauthenticatedHandler(() => queryClient.setQueryData(sessionKeys.current(), null));
    return () => setUnauthenticatedHandler(undefined);
  }, [queryClient]);
  return (
    <QueryState
      isPending={session.isPending}
      error={session.error}
      onRetry={() => void session.refetch()}
      what="the session"
    >
      {session.data ? (
        <Console
          username={session.data.user.username}
          canWrite={session.data.user.scope !== 'read'}
        />
      ) : (
        <SignInPage />
      )}
    </QueryState>
  );
}
