import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { serviceKeys } from '../lib/query-keys';
import { mockConsole } from '../testing/console-mocks';
import { node, restart, service } from '../testing/fixtures';
import { renderWithClient } from '../testing/render';
import { App } from './app';

const NO_REROUTE = 'Do not reroute incoming SMTP mail';
const ASK = 'Apply your changes first?';

/**
 * A console whose saved version (2, by bob) waits for a restart: the node runs
 * version 1. The service status follows the versions the mock keeps.
 */
async function open() {
  const api = mockConsole({
    'GET /service': () => {
      const saved = api.versions.at(-1)!;
      return {
        body: service({
          savedVersion: saved.version,
          savedBy: saved.savedBy,
          targetVersion: 1,
          pendingRestart: true,
          nodes: [node({ runningVersion: 1 })],
          restart: restart({ state: 'pending', targetVersion: 1 }),
        }),
      };
    },
    'POST /service/restart': () => ({
      status: 202,
      body: { version: api.versions.at(-1)!.version, coalesced: false, signalled: 1 },
    }),
  });
  api.saveAsOther((c) => c);
  const r = renderWithClient(<App />);
  await screen.findByText(/Version 2 saved by bob/);
  return { ...r, api };
}

/** Unsaved edits on screen: "Do not reroute" chosen, not applied. */
async function edit(user: ReturnType<typeof renderWithClient>['user']) {
  await user.click(await screen.findByRole('radio', { name: NO_REROUTE }));
  await screen.findByText(/Unsaved changes \(based on version 2\)/);
}

const keys = (api: Awaited<ReturnType<typeof open>>['api']) =>
  api.requests
    .map((r) => `${r.method} ${r.path}`)
    .filter((k) => k === 'PUT /routing' || k === 'POST /service/restart');

describe('Restart now with unsaved edits on screen', () => {
  it('without unsaved edits, restarts at once (nothing to ask)', async () => {
    const { user, api } = await open();
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    await waitFor(() => expect(api.calls('POST /service/restart')).toHaveLength(1));
    expect(screen.queryByRole('alertdialog', { name: ASK })).toBeNull();
  });

  it('asks "Apply your changes first?" with three choices; Cancel restarts nothing and keeps the edits', async () => {
    const { user, api } = await open();
    await edit(user);
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    const ask = await screen.findByRole('alertdialog', { name: ASK });
    expect(ask.textContent).toMatch(/A restart runs the saved version, version 2, without them/);
    expect(
      within(ask)
        .getAllByRole('button')
        .map((b) => b.textContent),
    ).toEqual(['', 'Apply, then restart', 'Restart with version 2', 'Cancel']);
    // Cancel is where focus starts: Enter must not restart anything.
    expect(document.activeElement?.textContent).toBe('Cancel');
    await user.click(within(ask).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog', { name: ASK })).toBeNull();
    expect(keys(api)).toEqual([]);
    expect(screen.getByText(/Unsaved changes \(based on version 2\)/)).toBeTruthy();
  });

  it('"Restart with version N" restarts the saved version and keeps the edits as a draft', async () => {
    const { user, api } = await open();
    await edit(user);
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    const ask = await screen.findByRole('alertdialog', { name: ASK });
    await user.click(within(ask).getByRole('button', { name: 'Restart with version 2' }));
    await waitFor(() => expect(keys(api)).toEqual(['POST /service/restart']));
    expect(screen.getByText(/Unsaved changes \(based on version 2\)/)).toBeTruthy();
    expect((screen.getByRole('radio', { name: NO_REROUTE }) as HTMLInputElement).checked).toBe(
      true,
    );
  });

  it('"Apply, then restart" saves the draft first, then restarts the version just saved', async () => {
    const { user, api } = await open();
    await edit(user);
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    const ask = await screen.findByRole('alertdialog', { name: ASK });
    await user.click(within(ask).getByRole('button', { name: 'Apply, then restart' }));
    await waitFor(() => expect(keys(api)).toEqual(['PUT /routing', 'POST /service/restart']));
    const put = api.calls('PUT /routing')[0]!;
    expect(put.headers['if-match']).toBe('"v2"');
    expect((put.body as { config: { rerouteMode: string } }).config.rerouteMode).toBe('no-reroute');
    await screen.findByText(/Version 3, saved by admin/);
  });

  it('while Apply is on its way, Restart now waits for it (the event stream may announce the version first)', async () => {
    const { user, api, client } = await open();
    await edit(user);
    let release: () => void = () => undefined;
    api.delay('PUT /routing', new Promise<void>((r) => (release = r)));
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(api.calls('PUT /routing')).toHaveLength(1));
    // The console announces version 3 before the save's answer arrives.
    act(() =>
      client.setQueryData(
        serviceKeys.status(),
        service({
          savedVersion: 3,
          savedBy: 'admin',
          targetVersion: 1,
          pendingRestart: true,
          nodes: [node({ runningVersion: 1 })],
          restart: restart({ state: 'pending', targetVersion: 1 }),
        }),
      ),
    );
    const restartNow = (await screen.findByRole('button', {
      name: 'Restart now',
    })) as HTMLButtonElement;
    await screen.findByText(/Version 3 saved by admin/);
    expect(restartNow.disabled).toBe(true);
    release();
    await screen.findByText(/^Version 3, saved by admin/);
    await waitFor(() => expect(restartNow.disabled).toBe(false));
    await user.click(restartNow);
    await waitFor(() => expect(keys(api)).toEqual(['PUT /routing', 'POST /service/restart']));
    expect(screen.queryByRole('alertdialog', { name: ASK })).toBeNull();
  });

  it('"Apply, then restart" with a critical finding asks for the confirmation; refused, nothing is saved or restarted', async () => {
    const { user, api } = await open();
    await user.click(await screen.findByRole('button', { name: 'Routing Restrictions...' }));
    const dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    await user.click(
      within(dialog).getByRole('checkbox', {
        name: 'Hosts and clients that successfully authenticate',
      }),
    );
    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    await user.click(
      within(await screen.findByRole('alertdialog', { name: ASK })).getByRole('button', {
        name: 'Apply, then restart',
      }),
    );
    let confirm = await screen.findByRole('alertdialog', { name: 'Save with critical findings?' });
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(keys(api)).toEqual([]);
    // Restart now is free again, and this time the finding is confirmed.
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    await user.click(
      within(await screen.findByRole('alertdialog', { name: ASK })).getByRole('button', {
        name: 'Apply, then restart',
      }),
    );
    confirm = await screen.findByRole('alertdialog', { name: 'Save with critical findings?' });
    await user.click(within(confirm).getByRole('button', { name: 'Save anyway' }));
    await waitFor(() => expect(keys(api)).toEqual(['PUT /routing', 'POST /service/restart']));
    expect((api.calls('PUT /routing')[0]!.body as { acknowledge: string[] }).acknowledge).toContain(
      'open-relay',
    );
  });

  it('"Apply, then restart" that meets a newer version (412) shows the conflict and restarts nothing', async () => {
    const { user, api } = await open();
    await edit(user);
    api.saveAsOther((c) => c, 'carol');
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    await user.click(
      within(await screen.findByRole('alertdialog', { name: ASK })).getByRole('button', {
        name: 'Apply, then restart',
      }),
    );
    await screen.findByRole('alertdialog', { name: 'Newer version saved' });
    expect(keys(api)).toEqual(['PUT /routing']);
  });
});
