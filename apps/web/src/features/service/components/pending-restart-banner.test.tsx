import type { Service } from '@ims/api-client';
import { act, screen, waitFor, within } from '@testing-library/react';
import { useEffect } from 'react';
import { describe, expect, it } from 'vitest';
import { serviceKeys } from '../../../lib/query-keys';
import { pushService } from '../../../lib/service-queries';
import { UnsavedDraftProvider, useProvideApply } from '../../../lib/unsaved-draft';
import { node, restart, service } from '../../../testing/fixtures';
import { mockApi } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { PendingRestartBanner } from './pending-restart-banner';

const status = () => screen.getByRole('status', { name: 'Internet Mail Service status' });

/** Version 2 saved, the node still on version 1, no restart asked yet. */
const pendingV2 = (): Service =>
  service({
    savedVersion: 2,
    pendingRestart: true,
    nodes: [node({ runningVersion: 1 })],
    restart: restart({ state: 'pending' }),
  });

describe('the pending-restart banner', () => {
  it('an answer made before the restart, arriving after the event that reports it applied, does not put "pending" back', async () => {
    const before: Service = pendingV2();
    // The refetch after Restart now is answered late, with the status as it
    // was before the restart (the console made it first).
    let release: (() => void) | undefined;
    let late = false;
    mockApi({
      'GET /service': async () => {
        if (late)
          await new Promise<void>((r) => {
            release = r;
          });
        return { body: before };
      },
      'POST /service/restart': () => {
        late = true;
        return { status: 202, body: { version: 2, coalesced: false, signalled: 1 } };
      },
    });
    const { user, client } = renderWithClient(<PendingRestartBanner savedHere={2} canWrite />);
    await waitFor(() => expect(status().textContent).toMatch(/take effect only when/));
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    await waitFor(() => expect(release).toBeDefined());
    // The event stream: the node runs version 2.
    act(() => {
      pushService(
        client,
        service({ savedVersion: 2, targetVersion: 2, nodes: [node({ runningVersion: 2 })] }),
      );
    });
    await waitFor(() =>
      expect(status().textContent).toMatch(/Applied: the Internet Mail Service runs version 2/),
    );
    await act(async () => {
      release?.();
      await new Promise((r) => setTimeout(r, 50));
    });
    expect(status().textContent).toMatch(/Applied: the Internet Mail Service runs version 2/);
    expect(status().textContent).not.toMatch(/take effect only when/);
  });

  it('says the saved changes wait for a restart, restarts, shows progress, then applied, then clears', async () => {
    let current: Service = pendingV2();
    const api = mockApi({
      'GET /service': () => ({ body: current }),
      'POST /service/restart': () => ({
        status: 202,
        body: { version: 2, coalesced: false, signalled: 1 },
      }),
    });
    const { user, client } = renderWithClient(<PendingRestartBanner savedHere={2} canWrite />);
    await waitFor(() =>
      expect(status().textContent).toMatch(
        /take effect only when the Internet Mail Service restarts/,
      ),
    );
    expect(status().textContent).toMatch(/local: runs version 1/);

    current = service({
      ...current,
      targetVersion: 2,
      restartInProgress: true,
      restart: restart({ state: 'restarting', behind: ['local'] }),
    });
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    await waitFor(() => expect(api.calls('POST /service/restart')).toHaveLength(1));
    await waitFor(() => expect(status().textContent).toMatch(/Restarting/));
    expect(screen.queryByRole('button', { name: 'Restart now' })).toBeNull();

    // The event stream reports the node on version 2.
    act(() => {
      client.setQueryData(
        serviceKeys.status(),
        service({ savedVersion: 2, targetVersion: 2, nodes: [node({ runningVersion: 2 })] }),
      );
    });
    await waitFor(() =>
      expect(status().textContent).toMatch(/Applied: the Internet Mail Service runs version 2/),
    );
    await waitFor(() => expect(status().textContent).toBe(''), { timeout: 6000 });
  });

  it("shows each node's queue and deferred counts, from its counters", async () => {
    mockApi({
      'GET /service': {
        body: service({
          savedVersion: 2,
          pendingRestart: true,
          nodes: [
            node({ runningVersion: 1, counters: { queueMessages: 3, queueDeferred: 1 } }),
            node({
              id: 2,
              name: 'edge',
              runningVersion: 1,
              counters: { queueMessages: 1, queueDeferred: 0 },
            }),
            node({ id: 3, name: 'old', runningVersion: 1 }),
          ],
          restart: restart({ state: 'pending' }),
        }),
      },
    });
    renderWithClient(<PendingRestartBanner savedHere={2} canWrite />);
    const lines = await screen.findByRole('list', { name: 'SMTP nodes' });
    await waitFor(() =>
      expect([...lines.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
        'local: runs version 1; queue: 3 messages, 1 deferred',
        'edge: runs version 1; queue: 1 message, 0 deferred',
        'old: runs version 1',
      ]),
    );
  });

  it('never says "applied" when no SMTP node is running: it says the change waits for one', async () => {
    let current: Service = service({
      savedVersion: 2,
      pendingRestart: false,
      targetVersion: 1,
      nodes: [],
      restart: restart({ state: 'pending', noNodeOnline: true }),
    });
    mockApi({
      'GET /service': () => ({ body: current }),
      'POST /service/restart': () => ({
        status: 202,
        body: { version: 2, coalesced: false, signalled: 0 },
      }),
    });
    const { user, client } = renderWithClient(<PendingRestartBanner savedHere={2} canWrite />);
    await waitFor(() => expect(status().textContent).toMatch(/take effect only when/));
    current = service({
      ...current,
      targetVersion: 2,
      restart: restart({
        state: 'waiting',
        noNodeOnline: true,
        summary:
          'No SMTP node is running: version 2 takes effect when the Internet Mail Service attaches.',
      }),
    });
    await user.click(screen.getByRole('button', { name: 'Restart now' }));
    act(() => {
      client.setQueryData(serviceKeys.status(), { ...current });
    });
    await waitFor(() =>
      expect(status().textContent).toMatch(
        /No SMTP node is running: version 2 takes effect when the Internet Mail Service attaches/,
      ),
    );
    expect(status().textContent).not.toMatch(/Applied/);
  });

  it('an offline node behind the version keeps it from saying "applied"; one that crashed with an error shows it', async () => {
    const two = (edge: Partial<Parameters<typeof node>[0]>, state: Service['restart']) =>
      service({
        savedVersion: 2,
        targetVersion: 2,
        restart: state,
        nodes: [
          node({ runningVersion: 2 }),
          node({
            id: 2,
            name: 'edge',
            online: false,
            state: 'offline',
            runningVersion: 1,
            ...edge,
          }),
        ],
      });
    const waiting = restart({
      state: 'waiting',
      targetVersion: 2,
      waitingFor: ['edge'],
      summary: 'Version 2 runs on every online node; edge (offline) loads it when it attaches.',
    });
    mockApi({ 'GET /service': { body: two({}, waiting) } });
    const { client } = renderWithClient(<PendingRestartBanner savedHere={2} canWrite />);
    await waitFor(() =>
      expect(status().textContent).toMatch(
        /Version 2 runs on every online node; edge \(offline\) loads it when it attaches/,
      ),
    );
    expect(status().textContent).not.toMatch(/Applied/);
    act(() => {
      client.setQueryData(
        serviceKeys.status(),
        two(
          { lastError: 'crash loop: exited 5 times in 12 s' },
          restart({
            state: 'failed',
            targetVersion: 2,
            failed: [
              { name: 'edge', runningVersion: 1, error: 'crash loop: exited 5 times in 12 s' },
            ],
          }),
        ),
      );
    });
    await waitFor(() => expect(status().textContent).toMatch(/could not apply version 2/));
    expect(status().textContent).not.toMatch(/Applied/);
  });

  it('hides Restart now for read-only users', async () => {
    mockApi({
      'GET /service': {
        body: service({
          savedVersion: 2,
          pendingRestart: true,
          restart: restart({ state: 'pending' }),
        }),
      },
    });
    renderWithClient(<PendingRestartBanner savedHere={undefined} canWrite={false} />);
    await waitFor(() => expect(status().textContent).toMatch(/takes? effect only when/));
    expect(screen.queryByRole('button', { name: 'Restart now' })).toBeNull();
  });

  it('shows a node that failed to apply with its error, and an offline node', async () => {
    mockApi({
      'GET /service': {
        body: service({
          savedVersion: 3,
          targetVersion: 3,
          pendingRestart: true,
          restart: restart({
            state: 'failed',
            targetVersion: 3,
            failed: [{ name: 'smtp-a', runningVersion: 2, error: 'bundle 3 failed validation' }],
          }),
          nodes: [
            node({
              id: 1,
              name: 'smtp-a',
              state: 'error',
              runningVersion: 2,
              lastError: 'bundle 3 failed validation',
            }),
            node({ id: 2, name: 'smtp-b', state: 'offline', online: false, runningVersion: 2 }),
          ],
        }),
      },
    });
    renderWithClient(<PendingRestartBanner savedHere={undefined} canWrite />);
    await waitFor(() =>
      expect(status().textContent).toMatch(/smtp-a: could not apply — bundle 3 failed validation/),
    );
    expect(status().textContent).toMatch(/smtp-b: offline/);
  });

  it('shows nothing, in a slot of the same height, when everything runs the saved version', async () => {
    mockApi({ 'GET /service': { body: service() } });
    const { container } = renderWithClient(<PendingRestartBanner savedHere={undefined} canWrite />);
    await waitFor(() => expect(container.querySelector('.banner-empty')).toBeTruthy());
    expect(container.querySelector('.banner-slot')).toBeTruthy();
  });

  it('a save made by someone else shows as theirs, not as "Changes saved"', async () => {
    mockApi({
      'GET /service': {
        body: service({
          savedVersion: 19,
          savedBy: 'carol',
          pendingRestart: true,
          targetVersion: 18,
          restart: restart({ state: 'pending', targetVersion: 18 }),
        }),
      },
    });
    renderWithClient(<PendingRestartBanner savedHere={undefined} canWrite />);
    await waitFor(() =>
      expect(status().textContent).toMatch(
        /Version 19 saved by carol\. It takes effect only when the Internet Mail Service restarts/,
      ),
    );
    expect(status().textContent).not.toMatch(/Changes saved/);
  });
});

describe('Restart now with an unsaved draft', () => {
  const pending = () =>
    service({
      savedVersion: 4,
      pendingRestart: true,
      targetVersion: 3,
      nodes: [node({ runningVersion: 3 })],
      restart: restart({ state: 'pending', targetVersion: 3 }),
    });

  it('with no sheet open to apply from, offers the saved version or Cancel, and says how to apply', async () => {
    const api = mockApi({
      'GET /service': { body: pending() },
      'POST /service/restart': {
        status: 202,
        body: { version: 4, coalesced: false, signalled: 1 },
      },
    });
    const { user } = renderWithClient(
      <UnsavedDraftProvider dirty baseVersion={3}>
        <PendingRestartBanner savedHere={undefined} canWrite />
      </UnsavedDraftProvider>,
    );
    await user.click(await screen.findByRole('button', { name: 'Restart now' }));
    const ask = await screen.findByRole('alertdialog', { name: 'Apply your changes first?' });
    expect(ask.textContent).toMatch(
      /changes that are not saved \(made on version 3\)\. A restart runs the saved version, version 4, without them\./,
    );
    expect(within(ask).queryByRole('button', { name: 'Apply, then restart' })).toBeNull();
    expect(ask.textContent).toMatch(/press Apply to save them first/);
    await user.click(within(ask).getByRole('button', { name: 'Restart with version 4' }));
    await waitFor(() => expect(api.calls('POST /service/restart')).toHaveLength(1));
  });

  it('restarts only once the draft is saved: an Apply that saves nothing restarts nothing', async () => {
    const api = mockApi({
      'GET /service': { body: pending() },
      'POST /service/restart': {
        status: 202,
        body: { version: 5, coalesced: false, signalled: 1 },
      },
    });
    let finish: (version: number | undefined) => void = () => undefined;
    let applied = 0;
    function Sheet() {
      const provide = useProvideApply();
      useEffect(() => {
        provide(
          () =>
            new Promise((resolve) => {
              applied++;
              finish = resolve;
            }),
        );
      }, [provide]);
      return null;
    }
    const { user } = renderWithClient(
      <UnsavedDraftProvider dirty baseVersion={4}>
        <Sheet />
        <PendingRestartBanner savedHere={undefined} canWrite />
      </UnsavedDraftProvider>,
    );
    const restartNow = await screen.findByRole('button', { name: 'Restart now' });
    await user.click(restartNow);
    await user.click(
      within(
        await screen.findByRole('alertdialog', { name: 'Apply your changes first?' }),
      ).getByRole('button', { name: 'Apply, then restart' }),
    );
    expect(applied).toBe(1);
    // While the save is on its way, Restart now waits for it.
    expect((restartNow as HTMLButtonElement).disabled).toBe(true);
    act(() => finish(undefined));
    await waitFor(() => expect((restartNow as HTMLButtonElement).disabled).toBe(false));
    expect(api.calls('POST /service/restart')).toHaveLength(0);

    await user.click(restartNow);
    await user.click(
      within(
        await screen.findByRole('alertdialog', { name: 'Apply your changes first?' }),
      ).getByRole('button', { name: 'Apply, then restart' }),
    );
    act(() => finish(5));
    await waitFor(() => expect(api.calls('POST /service/restart')).toHaveLength(1));
  });
});

describe('the banner during a rolling restart', () => {
  const three = [
    node({ id: 1, name: 'edge-1', runningVersion: 6 }),
    node({ id: 2, name: 'edge-2', runningVersion: 7 }),
    node({ id: 3, name: 'edge-3', runningVersion: 6 }),
  ];

  it('shows which node restarts, then Roll back / Continue when it halts', async () => {
    let current: Service = service({
      savedVersion: 7,
      targetVersion: 7,
      restartInProgress: true,
      nodes: three,
      rollout: {
        version: 7,
        strategy: 'rolling',
        state: 'running',
        order: ['edge-2', 'edge-1', 'edge-3'],
        done: ['edge-2'],
      },
      restart: restart({
        state: 'restarting',
        targetVersion: 7,
        behind: ['edge-1'],
        summary: 'Restarting edge-1 (2 of 3)…',
      }),
    });
    const api = mockApi({
      'GET /service': () => ({ body: current }),
      'POST /service/restart': () => ({
        status: 202,
        body: { version: 7, coalesced: false, signalled: 1 },
      }),
      'POST /service/rollback': () => ({
        status: 202,
        body: { version: 8, restoredFrom: 6, signalled: 3 },
      }),
    });
    const { user, client } = renderWithClient(
      <PendingRestartBanner savedHere={undefined} canWrite />,
    );
    await waitFor(() => expect(status().textContent).toMatch(/Restarting edge-1 \(2 of 3\)…/));
    expect(screen.queryByRole('button', { name: 'Roll back' })).toBeNull();

    current = service({
      ...current,
      restartInProgress: false,
      nodes: [
        node({ ...three[0], state: 'error', lastError: 'listen EADDRINUSE' }),
        ...three.slice(1),
      ],
      rollout: {
        version: 7,
        strategy: 'rolling',
        state: 'halted',
        order: ['edge-2', 'edge-1', 'edge-3'],
        done: ['edge-2'],
        haltedAt: 'edge-1',
        error: 'listen EADDRINUSE',
      },
      restart: restart({
        state: 'failed',
        targetVersion: 7,
        failed: [{ name: 'edge-1', runningVersion: 6, error: 'listen EADDRINUSE' }],
        summary: 'Halted: edge-1 could not apply version 7: listen EADDRINUSE.',
      }),
    });
    act(() => {
      client.setQueryData(serviceKeys.status(), current);
    });
    await waitFor(() =>
      expect(status().textContent).toMatch(
        /Halted: edge-1 could not apply version 7: listen EADDRINUSE\./,
      ),
    );
    expect(screen.queryByRole('button', { name: 'Restart now' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Continue' }));
    await waitFor(() => expect(api.calls('POST /service/restart')).toHaveLength(1));
    expect(api.calls('POST /service/restart')[0]?.body).toEqual({
      strategy: 'rolling',
      order: ['edge-3'],
    });
    await user.click(screen.getByRole('button', { name: 'Roll back' }));
    await waitFor(() => expect(api.calls('POST /service/rollback')).toHaveLength(1));
  });

  it('offers a rolling restart next to Restart now when there are several nodes', async () => {
    const api = mockApi({
      'GET /service': () => ({
        body: service({
          savedVersion: 7,
          targetVersion: 6,
          pendingRestart: true,
          nodes: three,
          restart: restart({ state: 'pending', targetVersion: 6 }),
        }),
      }),
      'POST /service/restart': () => ({
        status: 202,
        body: { version: 7, coalesced: false, signalled: 1 },
      }),
    });
    const { user } = renderWithClient(<PendingRestartBanner savedHere={undefined} canWrite />);
    await user.click(await screen.findByRole('button', { name: 'Rolling restart' }));
    await waitFor(() => expect(api.calls('POST /service/restart')).toHaveLength(1));
    expect(api.calls('POST /service/restart')[0]?.body).toEqual({ strategy: 'rolling' });
  });
});
