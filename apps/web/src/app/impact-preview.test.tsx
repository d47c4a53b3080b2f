import { defaultConfig, impact, type RoutingConfig, type TrafficRecord } from '@ims/routing-core';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockConsole } from '../testing/console-mocks';
import { renderWithClient } from '../testing/render';
import { App } from './app';

const NO_REROUTE = 'Do not reroute incoming SMTP mail';
const DAY = 86_400_000;

/** What the nodes recorded: 127.0.0.2 authenticated and relayed 9 messages to partner.example. */
const records: TrafficRecord[] = [
  {
    clientIp: '127.0.0.2',
    serverIp: '127.0.0.1',
    authenticated: true,
    recipient: 'partner.example',
    local: false,
    counts: { deliver: 0, relay: 9, reject: 0, 'accept-ndr': 0 },
  },
];

/** A console whose impact route judges the records as the server does (running: the defaults). */
function open() {
  const since = new Date(Date.now() - 7 * DAY).toISOString();
  const api = mockConsole({
    'POST /routing/impact': (req) => {
      const draft = (req.body as { config: RoutingConfig }).config;
      return { body: { since, ...impact(defaultConfig('example.com'), draft, records) } };
    },
  });
  return { api, ...renderWithClient(<App />) };
}

const panel = () => screen.getByRole('region', { name: 'Impact on recorded traffic' });

describe('the impact preview on the Routing tab', () => {
  it('shows, under the advisor, what the draft would change, asked again once the draft settles', async () => {
    const { api, user } = open();
    await screen.findByRole('radio', { name: NO_REROUTE });
    await waitFor(() =>
      expect(panel().textContent).toContain(
        'None of the 9 transactions in the last 7 days would change.',
      ),
    );
    const before = api.calls('POST /routing/impact').length;
    await user.click(screen.getByRole('radio', { name: NO_REROUTE }));
    await user.click(
      screen.getByRole('radio', {
        name: 'Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)',
      }),
    );
    await user.click(screen.getByRole('radio', { name: NO_REROUTE }));
    await waitFor(
      () =>
        expect(panel().textContent).toContain(
          '9 of 9 transactions in the last 7 days would change:',
        ),
      { timeout: 5000 },
    );
    const row = within(panel()).getByRole('listitem');
    expect(row.textContent).toBe(
      '127.0.0.2 (authenticated) → partner.example: relayed 9 times, would now get 550 5.7.1 Relaying is prohibited',
    );
    // Three quick changes, one question: the last draft's.
    const asked = api.calls('POST /routing/impact').slice(before);
    expect(asked).toHaveLength(1);
    expect((asked[0]!.body as { config: RoutingConfig }).config.rerouteMode).toBe('no-reroute');
  });

  it('Apply asks first when mail the running version accepts would be refused', async () => {
    const { api, user } = open();
    await user.click(await screen.findByRole('radio', { name: NO_REROUTE }));
    await waitFor(() => expect(panel().textContent).toContain('would change:'), { timeout: 5000 });
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    let confirm = await screen.findByRole('alertdialog', {
      name: 'Apply a change that refuses mail?',
    });
    expect(confirm.textContent).toContain(
      '127.0.0.2 (authenticated) → partner.example: relayed 9 times, would now get 550 5.7.1 Relaying is prohibited',
    );
    await user.click(within(confirm).getByRole('button', { name: 'Keep editing' }));
    expect(api.calls('PUT /routing')).toHaveLength(0);

    await user.click(screen.getByRole('button', { name: 'Apply' }));
    confirm = await screen.findByRole('alertdialog', { name: 'Apply a change that refuses mail?' });
    await user.click(within(confirm).getByRole('button', { name: 'Apply anyway' }));
    await waitFor(() => expect(api.calls('PUT /routing')).toHaveLength(1));
    expect(
      (api.calls('PUT /routing')[0]!.body as { config: RoutingConfig }).config.rerouteMode,
    ).toBe('no-reroute');
  });

  it('Apply right after an edit waits for the preview of that draft and asks, instead of saving', async () => {
    const { api, user } = open();
    await screen.findByRole('radio', { name: NO_REROUTE });
    await waitFor(() => expect(panel().textContent).toContain('None of the 9 transactions'));
    // The panel still shows the running version's preview ("none would
    // change"), and Apply comes before the debounce has asked about the draft.
    await user.click(screen.getByRole('radio', { name: NO_REROUTE }));
    // It says so: busy until the preview of this draft is there.
    expect(panel().querySelector('[aria-busy]')?.getAttribute('aria-busy')).toBe('true');
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    const confirm = await screen.findByRole(
      'alertdialog',
      { name: 'Apply a change that refuses mail?' },
      { timeout: 5000 },
    );
    expect(confirm.textContent).toContain(
      '127.0.0.2 (authenticated) → partner.example: relayed 9 times',
    );
    expect(api.calls('PUT /routing')).toHaveLength(0);
    const asked = api
      .calls('POST /routing/impact')
      .map((c) => (c.body as { config: RoutingConfig }).config.rerouteMode);
    expect(asked).toContain('no-reroute');
    await user.click(within(confirm).getByRole('button', { name: 'Keep editing' }));
    expect(api.calls('PUT /routing')).toHaveLength(0);
  });

  it('Cancel while Apply waits for the preview gives the Apply up, and the wait is said', async () => {
    const { api, user } = open();
    // A change that refuses nothing: Apply would save it once the preview answers.
    await user.click(await screen.findByRole('button', { name: 'Add...' }));
    const entry = await screen.findByRole('dialog', { name: 'Edit Routing Table Entry' });
    await user.type(within(entry).getByLabelText('E-mail sent to this domain:'), 'theirs.example');
    await user.click(within(entry).getByRole('button', { name: 'OK' }));
    let release: () => void = () => undefined;
    api.delay('POST /routing/impact', new Promise<void>((r) => (release = r)));
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await screen.findByText('Checking what this change would do to recorded traffic…');
    expect(screen.getByRole('button', { name: 'Apply' }).hasAttribute('disabled')).toBe(true);
    // Cancel gives the Apply up, even when the draft is then kept ("Keep editing").
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    const discard = await screen.findByRole('alertdialog', { name: 'Discard changes?' });
    await user.click(within(discard).getByRole('button', { name: 'Keep editing' }));
    release();
    await new Promise((r) => setTimeout(r, 300));
    expect(api.calls('PUT /routing')).toHaveLength(0);
    expect(screen.getByRole('button', { name: 'Apply' }).hasAttribute('disabled')).toBe(false);
  });

  it('a preview the console cannot give is said, and does not hold a save up', async () => {
    const api = mockConsole({
      'POST /routing/impact': {
        status: 503,
        body: {
          type: '/problems/node-offline',
          title: 'Node offline',
          status: 503,
          detail: 'No node is online (edge-1): their records cannot be read.',
        },
      },
    });
    const { user } = renderWithClient(<App />);
    await user.click(await screen.findByRole('radio', { name: NO_REROUTE }));
    await waitFor(() => expect(panel().textContent).toMatch(/unavailable: .*No node is online/), {
      timeout: 5000,
    });
    await user.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(api.calls('PUT /routing')).toHaveLength(1));
  });
});
