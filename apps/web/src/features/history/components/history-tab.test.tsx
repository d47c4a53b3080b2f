import { INBOUND } from '@ims/routing-core';
import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockConsole } from '../../../testing/console-mocks';
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
