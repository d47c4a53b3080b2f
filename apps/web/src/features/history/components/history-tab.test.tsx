import { INBOUND } from '@ims/routing-core';
import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { serviceKeys } from '../../../lib/query-keys';
import { mockConsole } from '../../../testing/console-mocks';
import { node, restart, service } from '../../../testing/fixtures';
import { problem } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { HistoryTab } from './history-tab';

describe('History', () => {
  it('lists versions, shows what one changed, and restores it with If-Match', async () => {
    const api = mockConsole({
      'GET /routing/versions': () => ({
        body: {
          versions: [...api.versions]
            .reverse()
            .map(({ version, savedAt, savedBy }) => ({ version, savedAt, savedBy })),
        },
      }),
      'POST /routing/versions/1/restore': (req) => {
        expect(req.headers['if-match']).toBe('"v2"');
        api.saveAsOther((c) => ({ ...c, routes: c.routes.slice(0, 1) }), 'admin');
        const v = api.versions.at(-1)!;
        return { body: v, headers: { etag: `"v${v.version}"` } };
      },
    });
    api.saveAsOther((c) => ({
      ...c,
      routes: [...c.routes, { sentTo: 'new.example', routeTo: INBOUND }],
    }));
    const { user } = renderWithClient(<HistoryTab canWrite dirty={false} />);
    const grid = await screen.findByRole('grid', { name: 'Versions' });
    const rows = within(grid).getAllByRole('row').slice(1);
    expect(rows[0]?.textContent).toMatch(/^2 \(saved\)/);
    expect(await screen.findByText(/new\.example/)).toBeTruthy();

    await user.click(rows[1]!);
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    await user.click(
      within(await screen.findByRole('alertdialog', { name: 'Restore version' })).getByRole(
        'button',
        { name: 'Restore' },
      ),
    );
    await screen.findByText(/Restored as version 3/);
  });

  it('a restore with a critical finding asks for the acknowledgement and sends it', async () => {
    let calls = 0;
    const api = mockConsole({
      'GET /routing/versions': {
        body: {
          versions: [
            { version: 2, savedAt: '2026-11-27T10:00:00.000Z', savedBy: 'admin' },
            { version: 1, savedAt: '2026-11-27T09:00:00.000Z', savedBy: 'system' },
          ],
        },
      },
      'POST /routing/versions/1/restore': (req) => {
        calls++;
        const ack = (req.body as { acknowledge?: string[] }).acknowledge;
        if (!ack) {
          return problem(422, 'unacknowledged-findings', 'Needs an acknowledgement.', {
            findings: [
              {
                id: 'open-relay',
                code: 'open-relay',
                severity: 'critical',
                message: 'Anyone may relay.',
                reference: 'Q260562',
              },
            ],
          });
        }
        const v = api.versions.at(-1)!;
        return { body: { ...v, version: 3 }, headers: { etag: '"v3"' } };
      },
    });
    api.saveAsOther((c) => c);
    const { user } = renderWithClient(<HistoryTab canWrite dirty />);
    const grid = await screen.findByRole('grid', { name: 'Versions' });
    await user.click(within(grid).getAllByRole('row')[2]!);
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    const confirm = await screen.findByRole('alertdialog', { name: 'Restore version' });
    expect(confirm.textContent).toMatch(/unsaved changes/);
    await user.click(within(confirm).getByRole('button', { name: 'Restore' }));
    const ack = await screen.findByRole('alertdialog', { name: 'Save with critical findings?' });
    expect(ack.textContent).toMatch(/Anyone may relay\. \(Q260562\)/);
    await user.click(within(ack).getByRole('button', { name: 'Save anyway' }));
    await screen.findByText(/Restored as version 3/);
    expect(calls).toBe(2);
  });

  it('hides Restore from read-only users and shows a failed load with Retry', async () => {
    let fail = true;
    mockConsole({
      'GET /routing/versions': () =>
        fail ? problem(500, 'internal-error', 'Something went wrong.') : { body: { versions: [] } },
    });
    const { user } = renderWithClient(<HistoryTab canWrite={false} dirty={false} />);
    expect((await screen.findByRole('alert')).textContent).toMatch(/Could not load the history/);
    fail = false;
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    await screen.findByRole('grid', { name: 'Versions' });
    expect(screen.queryByRole('button', { name: 'Restore' })).toBeNull();
  });
});

describe('History guard rails', () => {
  /** Versions 1 (the defaults) and 2 (adds new.example), 2 saved; the list follows the mock. */
  function console2(nodes = [node({ runningVersion: 1 })]) {
    const api = mockConsole({
      'GET /routing/versions': () => ({
        body: {
          versions: [...api.versions]
            .reverse()
            .map(({ version, savedAt, savedBy }) => ({ version, savedAt, savedBy })),
        },
      }),
      'GET /service': () => ({
        body: service({
          savedVersion: api.versions.at(-1)!.version,
          pendingRestart: true,
          nodes,
          restart: restart({ state: 'pending' }),
        }),
      }),
      'POST /routing/versions/1/restore': () => {
        api.saveAsOther((c) => ({ ...c, routes: c.routes.slice(0, 1) }), 'admin');
        const v = api.versions.at(-1)!;
        return { body: v, headers: { etag: `"v${v.version}"` } };
      },
    });
    api.saveAsOther((c) => ({
      ...c,
      routes: [...c.routes, { sentTo: 'new.example', routeTo: INBOUND }],
    }));
    return api;
  }
  const rows = async () =>
    within(await screen.findByRole('grid', { name: 'Versions' }))
      .getAllByRole('row')
      .slice(1);

  it('Restore shows what it would change in the saved version before it is confirmed', async () => {
    const api = console2();
    const { user } = renderWithClient(<HistoryTab canWrite dirty={false} />);
    await user.click((await rows())[1]!);
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    const confirm = await screen.findByRole('alertdialog', { name: 'Restore version' });
    await within(confirm).findByText(
      /Compared with the saved version 2, restoring version 1 makes these changes/,
    );
    expect(within(confirm).getByRole('listitem').textContent).toMatch(/new\.example/);
    expect(within(confirm).getByRole('listitem').className).toContain('remove');
    const diff = api.calls('GET /routing/diff').at(-1)!;
    expect([diff.query.get('from'), diff.query.get('to')]).toEqual(['2', '1']);
    expect(api.calls('POST /routing/versions/1/restore')).toHaveLength(0);
    await user.click(within(confirm).getByRole('button', { name: 'Restore' }));
    await screen.findByText(/Restored as version 3/);
  });

  it('marks the saved version and the version the nodes run', async () => {
    console2();
    renderWithClient(<HistoryTab canWrite dirty={false} />);
    await waitFor(async () =>
      expect((await rows()).map((r) => r.firstElementChild?.textContent)).toEqual([
        '2 (saved)',
        '1 (running)',
      ]),
    );
  });

  it('nodes on different versions are named beside each; an offline node is not counted', async () => {
    console2([
      node({ id: 1, name: 'smtp-a', runningVersion: 2 }),
      node({ id: 2, name: 'smtp-b', runningVersion: 1 }),
      node({ id: 3, name: 'smtp-c', runningVersion: 1, online: false, state: 'offline' }),
    ]);
    renderWithClient(<HistoryTab canWrite dirty={false} />);
    await waitFor(async () =>
      expect((await rows()).map((r) => r.firstElementChild?.textContent)).toEqual([
        '2 (saved, running on smtp-a)',
        '1 (running on smtp-b)',
      ]),
    );
  });

  it('the selection follows the version when a save made elsewhere arrives through the event stream', async () => {
    const api = console2();
    const { user, client } = renderWithClient(<HistoryTab canWrite dirty={false} />);
    await user.click((await rows())[1]!);
    expect((await rows())[1]?.getAttribute('aria-selected')).toBe('true');

    // Someone saves version 3; the event stream brings the new status.
    api.saveAsOther((c) => ({ ...c, rejectUnknownRecipients: false }), 'carol');
    act(() => {
      client.setQueryData(
        serviceKeys.status(),
        service({
          savedVersion: 3,
          savedBy: 'carol',
          pendingRestart: true,
          nodes: [node({ runningVersion: 1 })],
          restart: restart({ state: 'pending' }),
        }),
      );
    });
    await waitFor(async () =>
      expect((await rows()).map((r) => r.firstElementChild?.textContent)).toEqual([
        '3 (saved)',
        '2',
        '1 (running)',
      ]),
    );
    const selected = (await rows()).filter((r) => r.getAttribute('aria-selected') === 'true');
    expect(selected.map((r) => r.firstElementChild?.textContent)).toEqual(['1 (running)']);
    // Restore still means version 1, and is measured against the new saved version.
    await user.click(screen.getByRole('button', { name: 'Restore' }));
    const confirm = await screen.findByRole('alertdialog', { name: 'Restore version' });
    expect(confirm.textContent).toMatch(/Save a new version equal to version 1\?/);
    await within(confirm).findByText(/Compared with the saved version 3, restoring version 1/);
  });
});
