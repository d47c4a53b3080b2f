/**
 * The one client of the console API in the web app: @ims/api-client with
 * what a browser needs: the page's own origin, its session cookie, the
 * session's CSRF token on every write, and a hook for "signed out" (401).
 * Every endpoint has its own file under features/<feature>/api that calls it.
 */

import { createApiClient } from '@ims/api-client';

let csrfToken: string | undefined;
let onUnauthenticated: (() => void) | undefined;

/** Remembers the CSRF token of the browser session (from sign-in or GET /session). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the console answers 401 to anything but sign-in. */
export function setUnauthenticatedHandler(handler: (() => void) | undefined): void {
  onUnauthenticated = handler;
}

export const api = createApiClient({
  baseUrl: '',
  credentials: 'same-origin',
  csrfToken: () => csrfToken,
  onUnauthenticated: () => onUnauthenticated?.(),
});
