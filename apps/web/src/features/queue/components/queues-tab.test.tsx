import type { QueuedMessage } from '@ims/api-client';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockApi, problem } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { QueuesTab } from './queues-tab';

const stuck: QueuedMessage = {
  id: '1764403200000.P1Q1R1.mx',
  from: 'alice@example.com',
  recipients: ['bob@partner.example'],
  size: 1536,
  queuedAt: '2026-11-29T10:00:00.000Z',
  attempts: 2,
  nextAttemptAt: '2026-11-29T10:05:00.000Z',
  lastError: 'connect ECONNREFUSED 127.0.0.1:9',
};
const report: QueuedMessage = {
  ...stuck,
  id: '1764403200001.P1Q2R1.mx',
  from: '',
  recipients: ['carol@elsewhere.example'],
  attempts: 0,
  lastError: null,
};

const grid = () => screen.findByRole('grid', { name: 'Queued messages' });

describe('Queues', () => {
  it('lists every queued message with from, recipients, size, queued, attempts, next attempt and last error', async () => {
    mockApi({
      'GET /service/queue': {
        body: {
          nodes: [
            { name: 'local', messages: [stuck, report] },
            { name: 'edge', messages: [] },
          ],
        },
      },
    });
    renderWithClient(<QueuesTab canWrite />);
    const rows = within(await grid()).getAllByRole('row');
    expect(
      within(rows[0]!)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual([
      'Node',
      'From',
      'Recipients',
      'Size',
      'Queued',
      'Attempts',
      'Next attempt',
      'Last error',
    ]);
    expect([...rows[1]!.querySelectorAll('td')].map((c) => c.textContent)).toEqual([
      'local',
      'alice@example.com',
      'bob@partner.example',
      '1.5 KB',
      new Date(stuck.queuedAt).toLocaleString(),
      '2',
      new Date(stuck.nextAttemptAt).toLocaleString(),
      'connect ECONNREFUSED 127.0.0.1:9',
    ]);
    expect(rows[2]?.querySelectorAll('td')[1]?.textContent).toBe('<>');
  });

  it('Refresh reads the queues again; Retry now retries the selected message (keyboard: arrows, Enter)', async () => {
    let attempts = 2;
    const api = mockApi({
      'GET /service/queue': () => ({
        body: { nodes: [{ name: 'local', messages: [report, { ...stuck, attempts }] }] },
      }),
      [`POST /service/queue/local/${stuck.id}/retry`]: () => {
        attempts++;
        return { status: 204 };
      },
    });
    const { user } = renderWithClient(<QueuesTab canWrite />);
    const list = await grid();
    expect(screen.getByRole('button', { name: 'Retry now' })).toHaveProperty('disabled', true);
    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(api.calls('GET /service/queue')).toHaveLength(2));

    // Keyboard only: focus the first row, arrow down to the stuck message, Enter retries it.
    within(list).getAllByRole('row')[1]!.focus();
    await user.keyboard('{ArrowDown}');
    await waitFor(() =>
      expect(within(list).getAllByRole('row')[2]?.getAttribute('aria-selected')).toBe('true'),
    );
    // The selected message's last error, in full.
    expect(
      screen.getByText(/\(local, 1764403200000\.P1Q1R1\.mx\): connect ECONNREFUSED/),
    ).toBeTruthy();
    await user.keyboard('{Enter}');
    await waitFor(() =>
      expect(api.calls(`POST /service/queue/local/${stuck.id}/retry`)).toHaveLength(1),
    );
    // The list is read again: attempts grew.
    await waitFor(() => expect(within(list).getAllByRole('row')[2]?.textContent).toContain('3'));

    await user.click(screen.getByRole('button', { name: 'Retry now' }));
    await waitFor(() =>
      expect(api.calls(`POST /service/queue/local/${stuck.id}/retry`)).toHaveLength(2),
    );
  });

  it('Delete asks first, with a choice to send a non-delivery report', async () => {
    const api = mockApi({
      'GET /service/queue': { body: { nodes: [{ name: 'local', messages: [stuck] }] } },
      [`DELETE /service/queue/local/${stuck.id}`]: { status: 204 },
    });
    const { user } = renderWithClient(<QueuesTab canWrite />);
    await user.click(within(await grid()).getByText('alice@example.com'));
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    let dialog = await screen.findByRole('alertdialog', { name: 'Delete message' });
    expect(dialog.textContent).toContain(
      'from alice@example.com to bob@partner.example from the queue of local',
    );
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(api.calls(`DELETE /service/queue/local/${stuck.id}`)).toHaveLength(0);

    // With the keyboard: Delete on the row opens it; the report is ticked; Delete.
    within(await grid())
      .getAllByRole('row')[1]!
      .focus();
    await user.keyboard('{Delete}');
    dialog = await screen.findByRole('alertdialog', { name: 'Delete message' });
    await user.click(within(dialog).getByLabelText('Send a non-delivery report to the sender'));
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(api.calls(`DELETE /service/queue/local/${stuck.id}`)).toHaveLength(1),
    );
    expect(api.calls(`DELETE /service/queue/local/${stuck.id}`)[0]?.query.get('ndr')).toBe('true');

    await user.click(within(await grid()).getByText('alice@example.com'));
    await user.click(screen.getByRole('button', { name: 'Delete…' }));
    dialog = await screen.findByRole('alertdialog', { name: 'Delete message' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(api.calls(`DELETE /service/queue/local/${stuck.id}`)).toHaveLength(2),
    );
    expect(api.calls(`DELETE /service/queue/local/${stuck.id}`)[1]?.query.get('ndr')).toBeNull();
  });

  it('shows why an action failed (the node is offline), and why the list cannot be read', async () => {
    mockApi({
      'GET /service/queue': { body: { nodes: [{ name: 'local', messages: [stuck] }] } },
      [`POST /service/queue/local/${stuck.id}/retry`]: problem(
        503,
        'node-offline',
        'The node local is offline: it has no event stream open.',
      ),
    });
    const { user } = renderWithClient(<QueuesTab canWrite />);
    await user.click(within(await grid()).getByText('alice@example.com'));
    await user.click(screen.getByRole('button', { name: 'Retry now' }));
    expect((await screen.findByRole('alert')).textContent).toContain('The node local is offline');
  });

  it('a list that cannot be read says why, with Retry', async () => {
    mockApi({
      'GET /service/queue': problem(
        504,
        'node-timeout',
        'The node local did not answer within 10 s.',
      ),
    });
    renderWithClient(<QueuesTab canWrite />);
    expect((await screen.findByRole('alert')).textContent).toContain('did not answer within 10 s');
  });

  it('read-only users see the list and Refresh, no write buttons; Enter and Delete do nothing', async () => {
    const api = mockApi({
      'GET /service/queue': { body: { nodes: [{ name: 'local', messages: [stuck] }] } },
    });
    const { user } = renderWithClient(<QueuesTab canWrite={false} />);
    within(await grid())
      .getAllByRole('row')[1]!
      .focus();
    await user.keyboard('{Enter}{Delete}');
    expect(screen.getByRole('button', { name: 'Refresh' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Retry now' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete…' })).toBeNull();
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(api.calls(`POST /service/queue/local/${stuck.id}/retry`)).toHaveLength(0);
  });
});
