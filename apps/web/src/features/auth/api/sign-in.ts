import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken } from '../../../lib/api';
import type { Session } from '../../../lib/contract';
import { sessionKeys } from './get-session';

export interface SignInInput {
  username: string;
  password: string;
}

export async function signIn(input: SignInInput): Promise<Session> {
  const session = await api<Session>('/session', { method: 'POST', body: input });
  setCsrfToken(session.csrfToken);
  return session;
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: signIn,
    onSuccess: (session) => {
      queryClient.setQueryData(sessionKeys.current(), session);
    },
  });
}
