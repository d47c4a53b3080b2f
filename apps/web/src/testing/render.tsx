import { QueryClient } from '@tanstack/react-query';
import { type RenderResult, render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
import { AppProvider } from '../app/provider';

export interface Rendered extends RenderResult {
  user: ReturnType<typeof userEvent.setup>;
  client: QueryClient;
}

/** Renders with a fresh QueryClient (no retries), as every component test should. */
export function renderWithClient(ui: ReactElement): Rendered {
  const client = new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } },
  });
  const user = userEvent.setup();
  return { user, client, ...render(<AppProvider client={client}>{ui}</AppProvider>) };
}
