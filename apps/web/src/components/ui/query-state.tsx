import type { ReactNode } from 'react';
import { messageOf } from '../../lib/problem';

/** The loading and error states every query shows, in one place. */
export function QueryState({
  isPending,
  error,
  onRetry,
  what,
  children,
}: {
  isPending: boolean;
  error: unknown;
  onRetry?: () => void;
  what: string;
  children?: ReactNode;
}) {
  if (error) {
    return (
      <div role="alert" className="query-error">
        <p>
          Could not load {what}: {messageOf(error)}
        </p>
        {onRetry ? (
          <button type="button" onClick={onRetry}>
            Retry
          </button>
        ) : null}
      </div>
    );
  }
  if (isPending) {
    return (
      <p role="status" className="query-loading">
        Loading {what}…
      </p>
    );
  }
  return <>{children}</>;
}
