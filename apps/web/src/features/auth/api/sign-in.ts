import type { Session } from '@ims/api-client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken } from '../../../lib/api-client';
import { sessionKeys } from './get-session';

export interface SignInInput {
  username: string;
  password: string;
}

export async function signIn(input: SignInInput): Promise<Session> {
  const { cookie: _cookie, ...session } = await api.login(input.username, input.password);
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
