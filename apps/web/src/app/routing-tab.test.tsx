import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockConsole } from '../testing/console-mocks';
import { renderWithClient } from '../testing/render';
import { App } from './app';

const NO_REROUTE = 'Do not reroute incoming SMTP mail';
const REROUTE = 'Reroute incoming SMTP mail (Required for POP3/IMAP4 Support)';

async function open() {
  const api = mockConsole();
  const r = renderWithClient(<App />);
  await screen.findByRole('radio', { name: NO_REROUTE });
  return { ...r, api };
}

const button = (name: string) => screen.getByRole('button', { name }) as HTMLButtonElement;
const rows = () =>
  within(screen.getByRole('grid', { name: 'Routing' }))
    .getAllByRole('row')
    .slice(1);

describe('the Routing tab', () => {
  it('has the original labels, columns and buttons', async () => {
    await open();
    expect((screen.getByRole('radio', { name: REROUTE }) as HTMLInputElement).checked).toBe(true);
    const grid = screen.getByRole('grid', { name: 'Routing' });
    expect(
      within(grid)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['Sent to', 'Route to']);
    expect(rows()[0]?.textContent).toBe('example.com<inbound>');
    for (const name of ['Add...', 'Edit...', 'Remove', 'Routing Restrictions...'])
      expect(button(name)).toBeTruthy();
    expect(
      screen.getByRole('checkbox', { name: 'Reject unknown recipients at RCPT time' }),
    ).toBeTruthy();
    const help = screen.getByText(/Q255695/);
    // The help says exactly what the wire answers in each case (the wire's lines pin these too).
    expect(help.textContent).toContain('550 5.1.1 Recipient address rejected: no such user here');
    expect(help.textContent).toContain(
      'with "Do not reroute" a recipient in any other domain gets 550 5.7.1 Relaying is prohibited',
    );
  });

  it('disables the list and its buttons while "Do not reroute" is chosen', async () => {
    const { user } = await open();
    expect(button('Add...').disabled).toBe(false);
    await user.click(screen.getByRole('radio', { name: NO_REROUTE }));
    expect(button('Add...').disabled).toBe(true);
    expect(button('Edit...').disabled).toBe(true);
    expect(button('Remove').disabled).toBe(true);
    expect(screen.getByRole('grid', { name: 'Routing' }).getAttribute('aria-disabled')).toBe(
      'true',
    );
    await user.click(screen.getByRole('radio', { name: REROUTE }));
    expect(button('Add...').disabled).toBe(false);
  });

  it('adds, edits and removes routes', async () => {
    const { user } = await open();
    await user.click(button('Add...'));
    let dialog = await screen.findByRole('dialog', { name: 'Edit Routing Table Entry' });
    // The # prefix is explained inline.
    expect(within(dialog).getByText(/to match that domain only/)).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    expect(within(dialog).getByText('Type the domain the mail is sent to.')).toBeTruthy();
    await user.type(within(dialog).getByLabelText('E-mail sent to this domain:'), '#ms.example');
    expect(
      within(dialog).getByRole('radio', { name: "Should be accepted as 'inbound'" }),
    ).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    expect(rows().map((r) => r.textContent)).toEqual([
      'example.com<inbound>',
      '#ms.example<inbound>',
    ]);

    // Edit the selected (new) row: reroute it to a host.
    await user.click(button('Edit...'));
    dialog = await screen.findByRole('dialog', { name: 'Edit Routing Table Entry' });
    expect(
      (within(dialog).getByLabelText('E-mail sent to this domain:') as HTMLInputElement).value,
    ).toBe('#ms.example');
    await user.click(
      within(dialog).getByRole('radio', { name: 'Should be rerouted to this host' }),
    );
    await user.type(within(dialog).getByLabelText(/Host/), 'mail2.example.com:2525');
    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    expect(rows()[1]?.textContent).toBe('#ms.examplemail2.example.com:2525');

    await user.click(rows()[0]!);
    await user.click(button('Remove'));
    expect(rows().map((r) => r.textContent)).toEqual(['#ms.examplemail2.example.com:2525']);
    // Removing the site domain's inbound entry is a critical finding.
    expect(await screen.findByText(/Critical:/)).toBeTruthy();
  });

  it('routing list: arrows move the selection, Enter edits, Delete removes', async () => {
    const { user, api } = await open();
    api.versions.length = 0;
    await user.click(button('Add...'));
    const dialog = await screen.findByRole('dialog', { name: 'Edit Routing Table Entry' });
    await user.type(
      within(dialog).getByLabelText('E-mail sent to this domain:'),
      'b.example{Enter}',
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    rows()[0]!.focus();
    await user.keyboard('{ArrowDown}');
    await waitFor(() => expect(rows()[1]?.getAttribute('aria-selected')).toBe('true'));
    await user.keyboard('{Enter}');
    const edit = await screen.findByRole('dialog', { name: 'Edit Routing Table Entry' });
    await user.keyboard('{Escape}');
    await waitFor(() => expect(edit.isConnected).toBe(false));
    rows()[1]!.focus();
    await user.keyboard('{Delete}');
    expect(rows()).toHaveLength(1);
  });

  it('Routing Restrictions: checkboxes and IP + subnet mask lists; dialogs trap focus and close on Escape', async () => {
    const { user } = await open();
    await user.click(button('Routing Restrictions...'));
    const dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    const auth = within(dialog).getByRole('checkbox', {
      name: 'Hosts and clients that successfully authenticate',
    });
    const clients = within(dialog).getByRole('checkbox', {
      name: 'Hosts and clients with these IP addresses',
    });
    expect(
      within(dialog).getByRole('checkbox', {
        name: 'Hosts and clients connecting to these internal addresses',
      }),
    ).toBeTruthy();
    expect((auth as HTMLInputElement).checked).toBe(true);

    const clientList = within(dialog).getByRole('group', {
      name: 'Hosts and clients with these IP addresses',
    });
    expect(
      (within(clientList).getByRole('button', { name: 'Add...' }) as HTMLButtonElement).disabled,
    ).toBe(true);
    await user.click(clients);
    await user.click(within(clientList).getByRole('button', { name: 'Add...' }));
    const entry = await screen.findByRole('dialog', { name: 'Add IP address' });
    await user.type(within(entry).getByLabelText('IP address:'), '192.168.1.0');
    await user.clear(within(entry).getByLabelText('Subnet mask:'));
    await user.type(within(entry).getByLabelText('Subnet mask:'), '255.0.255.0');
    await user.click(within(entry).getByRole('button', { name: 'OK' }));
    expect(within(entry).getByRole('alert').textContent).toMatch(/mask/i);
    await user.clear(within(entry).getByLabelText('Subnet mask:'));
    await user.type(within(entry).getByLabelText('Subnet mask:'), '255.255.255.0');
    await user.click(within(entry).getByRole('button', { name: 'OK' }));
    const grid = within(clientList).getByRole('grid');
    expect(within(grid).getAllByRole('row')[1]?.textContent).toBe('192.168.1.0255.255.255.0');

    // Never-route list: same editing.
    const never = within(dialog).getByRole('group', {
      name: 'Specify the hosts and clients that can NEVER route mail',
    });
    await user.click(within(never).getByRole('button', { name: 'Add...' }));
    const entry2 = await screen.findByRole('dialog', { name: 'Add IP address' });
    await user.type(within(entry2).getByLabelText('IP address:'), '10.9.9.9');
    await user.click(within(entry2).getByRole('button', { name: 'OK' }));
    await user.click(within(within(never).getByRole('grid')).getAllByRole('row')[1]!);
    await user.click(within(never).getByRole('button', { name: 'Edit...' }));
    const entry3 = await screen.findByRole('dialog', { name: 'Edit IP address' });
    // Focus stays inside: Tab from the last control wraps to the first.
    const focusables = within(entry3)
      .getAllByRole('button')
      .concat(within(entry3).getAllByRole('textbox'));
    const last = within(entry3).getByRole('button', { name: 'Cancel' });
    last.focus();
    await user.tab();
    expect(focusables).toContain(document.activeElement);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(entry3.isConnected).toBe(false));
    expect(dialog.isConnected).toBe(true);

    await user.click(within(dialog).getByRole('button', { name: 'OK' }));
    await waitFor(() => expect(dialog.isConnected).toBe(false));
    expect(button('Apply').disabled).toBe(false);
  });

  it('Cancel in the restrictions dialog keeps the draft as it was', async () => {
    const { user } = await open();
    await user.click(button('Routing Restrictions...'));
    const dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    await user.click(
      within(dialog).getByRole('checkbox', {
        name: 'Hosts and clients that successfully authenticate',
      }),
    );
    expect(within(dialog).getByText(/open relay/)).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(button('Apply').disabled).toBe(true);
    expect(screen.queryByText(/Critical:/)).toBeNull();
  });

  it('with "Do not reroute" chosen, the Routing Restrictions dialog says, at its top, that they apply only when rerouting', async () => {
    const { user } = await open();
    const first = (dialog: HTMLElement) =>
      dialog.querySelector('.window-body')?.firstElementChild as HTMLElement;
    await user.click(button('Routing Restrictions...'));
    let dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    expect(within(dialog).queryByText(/apply only when rerouting/)).toBeNull();
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));

    await user.click(screen.getByRole('radio', { name: NO_REROUTE }));
    await user.click(button('Routing Restrictions...'));
    dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    expect(first(dialog).getAttribute('role')).toBe('note');
    expect(first(dialog).textContent).toMatch(
      /^These restrictions apply only when rerouting\. While "Do not reroute incoming SMTP mail" is chosen no mail is relayed/,
    );
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));

    await user.click(screen.getByRole('radio', { name: REROUTE }));
    await user.click(button('Routing Restrictions...'));
    dialog = await screen.findByRole('dialog', { name: 'Routing Restrictions' });
    expect(within(dialog).queryByText(/apply only when rerouting/)).toBeNull();
  });
});

describe('dialog focus', () => {
  it('opens with focus on the first field, and gives it back to the opener on close', async () => {
    const { user } = await open();
    await user.click(button('Add...'));
    const dialog = await screen.findByRole('dialog', { name: 'Edit Routing Table Entry' });
    expect(document.activeElement).toBe(
      within(dialog).getByLabelText('E-mail sent to this domain:'),
    );
    await user.keyboard('{Escape}');
    await waitFor(() => expect(dialog.isConnected).toBe(false));
    expect(document.activeElement).toBe(button('Add...'));
  });
});
