import { INBOUND } from '@ims/routing-core';
import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockConsole } from '../testing/console-mocks';
import { session } from '../testing/fixtures';
import { mockApi, problem } from '../testing/mock-api';
import { renderWithClient } from '../testing/render';
import { App } from './app';

const sheet = async () => {
  await screen.findByRole('radio', { name: 'Do not reroute incoming SMTP mail' });
};

describe('sign in', () => {
  it('shows the sign-in window, signs in, then shows the user and Sign out', async () => {
    let signedIn = false;
    const api = mockConsole({
      'GET /session': () =>
        signedIn ? { body: session } : problem(401, 'unauthenticated', 'Sign in.'),
      'DELETE /session': () => {
        signedIn = false;
        return { status: 204 };
      },
      'POST /session': (req) => {
        const body = req.body as { username: string; password: string };
        if (body.password !== 'right password') return problem(401, 'login-failed', 'Wrong.');
        signedIn = true;
        return { body: session };
      },
    });
    const { user } = renderWithClient(<App />);
    await user.type(await screen.findByLabelText('User name:'), 'admin');
    await user.type(screen.getByLabelText('Password:'), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/incorrect/);

    await user.clear(screen.getByLabelText('Password:'));
    await user.type(screen.getByLabelText('Password:'), 'right password');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await sheet();
    expect(screen.getByText('admin')).toBeTruthy();
    expect(api.calls('POST /session')[1]?.body).toEqual({
      username: 'admin',
      password: 'right password',
    });

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await screen.findByRole('button', { name: 'Sign in' });
    expect(api.calls('DELETE /session')[0]?.headers['x-csrf-token']).toBe('csrf-token-1');
  });
});

describe('the property sheet', () => {
  it('Apply saves with If-Match and the CSRF token, and stays', async () => {
    const api = mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    const apply = screen.getByRole('button', { name: 'Apply' }) as HTMLButtonElement;
    expect(apply.disabled).toBe(true);
    await user.click(screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }));
    expect(apply.disabled).toBe(false);
    expect(screen.getByText(/Unsaved changes/)).toBeTruthy();
    await user.click(apply);
    await waitFor(() => expect(api.calls('PUT /routing')).toHaveLength(1));
    const put = api.calls('PUT /routing')[0]!;
    expect(put.headers['if-match']).toBe('"v1"');
    expect(put.headers['x-csrf-token']).toBe('csrf-token-1');
    expect((put.body as { config: { rerouteMode: string } }).config.rerouteMode).toBe('no-reroute');
    await screen.findByText(/Version 2, saved by admin/);
    expect(apply.disabled).toBe(true);
    expect(screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' })).toBeTruthy();
  });

  it('an edit made while Apply is on its way is kept, as an unsaved change on the new version', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const api = mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    const reject = () =>
      screen.getByRole('checkbox', {
        name: 'Reject unknown recipients at RCPT time',
      }) as HTMLInputElement;
    api.delay('PUT /routing', gate);
    await user.click(reject());
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(api.calls('PUT /routing')).toHaveLength(1));
    expect(api.calls('PUT /routing')[0]?.body).toMatchObject({
      config: { rejectUnknownRecipients: false },
    });
    // While the PUT waits, the user changes their mind.
    await user.click(reject());
    act(() => release());
    // Version 2 is saved (recipient rejection off); the later edit stays, unsaved, on top of it.
    await waitFor(() => expect(screen.getByText(/Unsaved changes/)).toBeTruthy());
    await new Promise((r) => setTimeout(r, 50));
    expect(reject().checked).toBe(true);
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(api.calls('PUT /routing')).toHaveLength(2));
    const second = api.calls('PUT /routing')[1]!;
    expect(second.headers['if-match']).toBe('"v2"');
    expect(second.body).toMatchObject({ config: { rejectUnknownRecipients: true } });
  });

  it('OK saves and leaves the sheet; Properties... opens it again', async () => {
    const api = mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(
      screen.getByRole('checkbox', { name: 'Reject unknown recipients at RCPT time' }),
    );
    await user.click(screen.getByRole('button', { name: 'OK' }));
    await screen.findByRole('button', { name: 'Properties...' });
    expect(api.calls('PUT /routing')).toHaveLength(1);
    expect(window.location.pathname).toBe('/closed');
    await user.click(screen.getByRole('button', { name: 'Properties...' }));
    await sheet();
  });

  it('Cancel with unsaved changes confirms, then discards the draft', async () => {
    const api = mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Discard changes?' });
    await user.click(within(dialog).getByRole('button', { name: 'Keep editing' }));
    expect(
      (screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }) as HTMLInputElement)
        .checked,
    ).toBe(true);
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    await user.click(await screen.findByRole('button', { name: 'Discard changes' }));
    await user.click(await screen.findByRole('button', { name: 'Properties...' }));
    await sheet();
    expect(
      (
        screen.getByRole('radio', {
          name: 'Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)',
        }) as HTMLInputElement
      ).checked,
    ).toBe(true);
    expect(api.calls('PUT /routing')).toHaveLength(0);
  });

  it('shows field errors from the server beside the field they belong to', async () => {
    mockConsole({
      'PUT /routing': problem(422, 'policy-invalid', 'The configuration has 1 error(s).', {
        errors: [{ pointer: '/config/routes/1/routeTo', detail: 'The host is not valid.' }],
      }),
    });
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(screen.getByRole('button', { name: 'Add...' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit Routing Table Entry' });
    await user.type(
      within(dialog).getByLabelText('E-mail sent to this domain:'),
      'partner.example',
    );
    await user.click(
      within(dialog).getByRole('radio', { name: 'Should be rerouted to this host' }),
    );
    await user.type(within(dialog).getByLabelText(/Host/), 'mail.partner.example');
    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    const error = await screen.findByText('Routing entry 2: The host is not valid.');
    expect(error.closest('.routing-list')).toBeTruthy();
    const grid = screen.getByRole('grid', { name: 'Routing' });
    expect(within(grid).getAllByRole('row')[2]?.getAttribute('aria-invalid')).toBe('true');
  });

  it('a critical finding needs an explicit confirmation, sent as acknowledge', async () => {
    const api = mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(screen.getByRole('button', { name: 'Routing Restrictions...' }));
    const dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    await user.click(
      within(dialog).getByRole('checkbox', {
        name: 'Hosts and clients that successfully authenticate',
      }),
    );
    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    const finding = (await screen.findByText(/Critical:/)).closest('li')!;
    expect(finding.className).toContain('critical');
    expect(finding.textContent).toContain('Q260562');

    await user.click(screen.getByRole('button', { name: 'Apply' }));
    const confirm = await screen.findByRole('alertdialog', {
      name: 'Save with critical findings?',
    });
    await user.click(within(confirm).getByRole('button', { name: 'Save anyway' }));
    await waitFor(() => expect(api.calls('PUT /routing')).toHaveLength(1));
    expect((api.calls('PUT /routing')[0]!.body as { acknowledge: string[] }).acknowledge).toContain(
      'open-relay',
    );
  });

  it('a one-click fix repairs the draft', async () => {
    mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(screen.getByRole('button', { name: 'Routing Restrictions...' }));
    const dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    await user.click(
      within(dialog).getByRole('checkbox', {
        name: 'Hosts and clients that successfully authenticate',
      }),
    );
    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    await user.click(await screen.findByRole('button', { name: /^Fix: Tick/ }));
    await waitFor(() => expect(screen.queryByText(/Critical:/)).toBeNull());
    expect((screen.getByRole('button', { name: 'Apply' }) as HTMLButtonElement).disabled).toBe(
      true,
    );
  });

  it('412: shows who saved the newer version, when, and the difference; Reload takes theirs', async () => {
    const api = mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    api.saveAsOther((c) => ({
      ...c,
      routes: [...c.routes, { sentTo: 'bob.example', routeTo: INBOUND }],
    }));
    await user.click(screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }));
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Newer version saved' });
    expect(dialog.textContent).toMatch(/Version 2 was saved by bob/);
    await within(dialog).findByText(/bob\.example/);
    expect(dialog.textContent).toMatch(/Your unsaved changes/);
    await user.click(within(dialog).getByRole('button', { name: 'Reload' }));
    await screen.findByText('bob.example');
    expect(
      (
        screen.getByRole('radio', {
          name: 'Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)',
        }) as HTMLInputElement
      ).checked,
    ).toBe(true);
  });

  it('412: Re-apply puts my changes on top of theirs, and Apply then saves on the new version', async () => {
    const api = mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    api.saveAsOther((c) => ({
      ...c,
      routes: [...c.routes, { sentTo: 'bob.example', routeTo: INBOUND }],
    }));
    await user.click(screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }));
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Newer version saved' });
    await user.click(within(dialog).getByRole('button', { name: 'Re-apply my changes' }));
    await screen.findByText(/re-applied on top of version 2/);
    expect(screen.getByText('bob.example')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(api.versions).toHaveLength(3));
    expect(api.calls('PUT /routing').at(-1)!.headers['if-match']).toBe('"v2"');
    expect(api.versions[2]!.config.rerouteMode).toBe('no-reroute');
    expect(api.versions[2]!.config.routes.map((r) => r.sentTo)).toContain('bob.example');
  });

  it('shows loading, then an error with Retry, when the configuration cannot be read', async () => {
    let fail = true;
    mockConsole({
      'GET /routing': () =>
        fail ? problem(500, 'internal-error', 'Something went wrong.') : { body: undefined },
    });
    renderWithClient(<App />);
    expect(await screen.findByText(/Loading/)).toBeTruthy();
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /Could not load the routing configuration/,
    );
    fail = false;
  });

  it('each view is reachable from the sheet as a tab', async () => {
    mockApi({});
    mockConsole({
      'GET /routing/versions': { body: { versions: [] } },
      'GET /audit': { body: { entries: [] } },
    });
    const { user } = renderWithClient(<App />);
    await sheet();
    const tabs = screen.getByRole('tablist', { name: 'Property pages' });
    expect(
      within(tabs)
        .getAllByRole('tab')
        .map((t) => t.textContent),
    ).toEqual([
      'Routing',
      'Test a recipient',
      'History',
      'Audit',
      'Mailboxes',
      'Queues',
      'Relay test',
    ]);
    await user.click(within(tabs).getByRole('tab', { name: 'Audit' }));
    await screen.findByRole('table', { name: 'Audit log' });
    expect(window.location.pathname).toBe('/audit');
    // Arrow keys move between tabs.
    await user.keyboard('{ArrowRight}');
    await screen.findByRole('grid', { name: 'Mailboxes' });
  });
});

describe('leaving the sheet', () => {
  it('the browser Back button keeps the draft for when the sheet opens again', async () => {
    mockConsole();
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(screen.getByRole('button', { name: 'OK' }));
    await user.click(await screen.findByRole('button', { name: 'Properties...' }));
    await sheet();
    await user.click(screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }));
    act(() => window.history.back());
    await user.click(await screen.findByRole('button', { name: 'Properties...' }));
    await sheet();
    expect(
      (screen.getByRole('radio', { name: 'Do not reroute incoming SMTP mail' }) as HTMLInputElement)
        .checked,
    ).toBe(true);
    expect(screen.getByText(/Unsaved changes/)).toBeTruthy();
  });
});

describe('findings the server knows of', () => {
  it('a 422 unacknowledged-findings answer asks for the confirmation and saves with it', async () => {
    let puts = 0;
    const api = mockConsole();
    api.set('PUT /routing', (req) => {
      puts++;
      const ack = (req.body as { acknowledge?: string[] }).acknowledge;
      if (!ack?.includes('internal-not-listening')) {
        return problem(422, 'unacknowledged-findings', 'Needs an acknowledgement.', {
          findings: [
            {
              id: 'internal-not-listening',
              code: 'internal-not-listening',
              severity: 'critical',
              message: 'The service does not listen on 10.1.1.1.',
              reference: 'docs/design.md §2',
            },
          ],
        });
      }
      return { body: api.versions[0]!, headers: { etag: '"v1"' } };
    });
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(
      screen.getByRole('checkbox', { name: 'Reject unknown recipients at RCPT time' }),
    );
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    const confirm = await screen.findByRole('alertdialog', {
      name: 'Save with critical findings?',
    });
    expect(confirm.textContent).toMatch(/does not listen on 10\.1\.1\.1/);
    await user.click(within(confirm).getByRole('button', { name: 'Save anyway' }));
    await waitFor(() => expect(puts).toBe(2));
  });

  it('restriction errors from the server show inside the Routing Restrictions dialog', async () => {
    mockConsole({
      'PUT /routing': problem(422, 'policy-invalid', 'The configuration has 1 error(s).', {
        errors: [
          {
            pointer: '/config/restrictions/neverRoute/0/mask',
            detail: 'The mask is not contiguous.',
          },
        ],
      }),
    });
    const { user } = renderWithClient(<App />);
    await sheet();
    await user.click(
      screen.getByRole('checkbox', { name: 'Reject unknown recipients at RCPT time' }),
    );
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await screen.findByText(/The routing restrictions have errors/);
    await user.click(screen.getByRole('button', { name: 'Routing Restrictions...' }));
    const dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    const never = within(dialog).getByRole('group', {
      name: 'Specify the hosts and clients that can NEVER route mail',
    });
    expect(within(never).getByText('Entry 1: The mask is not contiguous.')).toBeTruthy();
  });
});
