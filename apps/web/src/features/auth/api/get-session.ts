import type { SessionInfo as ApiSessionInfo } from '@ims/api-client';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, setCsrfToken } from '../../../lib/api-client';
import { isApiProblem } from '../../../lib/problem';

export type SessionInfo = ApiSessionInfo & { user: { scope?: 'read' | 'write' } };

export const sessionKeys = {
  all: ['session'] as const,
  current: () => ['session', 'current'] as const,
};

/** Who is signed in, or null when nobody is (401). */
export async function getSession(): Promise<SessionInfo | null> {
  try {
    const session = await api.whoami();
    setCsrfToken(session.csrfToken);
    return session;
  } catch (err) {
    if (isApiProblem(err, 401)) {
      setCsrfToken(undefined);
      return null;
    }
    throw err;
  }
}

export const sessionQuery = () =>
  queryOptions({ queryKey: sessionKeys.current(), queryFn: getSession, staleTime: Infinity });

export const useSession = () => useQuery(sessionQuery());
