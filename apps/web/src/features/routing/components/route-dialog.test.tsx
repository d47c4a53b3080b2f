import type { Route } from '@ims/routing-core';
import { screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { renderWithClient } from '../../../testing/render';
import { RouteDialog } from './route-dialog';

const table: Route[] = [
  { sentTo: 'example.com', routeTo: '<inbound>' },
  { sentTo: 'partner.example', routeTo: 'mx.partner.example' },
];

function open(route: Route | null, others: readonly Route[] = table) {
  const onSave = vi.fn();
  const rendered = renderWithClient(
    <RouteDialog route={route} others={others} onSave={onSave} onClose={() => {}} />,
  );
  return { ...rendered, onSave };
}

describe('RouteDialog', () => {
  it('shows the domain and the host normalised as soon as each is left, and saves them so', async () => {
    const { user, onSave } = open(null);
    const domain = screen.getByLabelText('E-mail sent to this domain:') as HTMLInputElement;
    await user.type(domain, '  Sales.Example.COM. ');
    await user.tab();
    expect(domain.value).toBe('sales.example.com');
    await user.click(screen.getByLabelText('Should be rerouted to this host'));
    const host = screen.getByLabelText(
      'Host (name or address, optional :port):',
    ) as HTMLInputElement;
    await user.type(host, 'MX2.Sales.Example.com.:2525');
    await user.tab();
    expect(host.value).toBe('mx2.sales.example.com:2525');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect(onSave).toHaveBeenCalledWith({
      sentTo: 'sales.example.com',
      routeTo: 'mx2.sales.example.com:2525',
    });
  });

  it('takes an address literal with a port (stored as routing-core writes it), and an IDN as its A-label', async () => {
    const { user, onSave } = open(null);
    await user.type(screen.getByLabelText('E-mail sent to this domain:'), '#Bücher.example');
    await user.tab();
    expect((screen.getByLabelText('E-mail sent to this domain:') as HTMLInputElement).value).toBe(
      '#xn--bcher-kva.example',
    );
    await user.click(screen.getByLabelText('Should be rerouted to this host'));
    await user.type(
      screen.getByLabelText('Host (name or address, optional :port):'),
      '[[127.0.0.1]:2727', // user-event: "[[" types one "["
    );
    await user.tab();
    const host = screen.getByLabelText(
      'Host (name or address, optional :port):',
    ) as HTMLInputElement;
    expect(host.value).toBe('127.0.0.1:2727');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect(onSave).toHaveBeenCalledWith({
      sentTo: '#xn--bcher-kva.example',
      routeTo: '127.0.0.1:2727',
    });
  });

  it('refuses a domain the table has already, naming that entry (as ims route add does)', async () => {
    const { user, onSave } = open(null);
    await user.type(screen.getByLabelText('E-mail sent to this domain:'), 'Partner.Example');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The routing table already has an entry for partner.example (→ mx.partner.example). Select that entry and choose Edit... to change where its mail goes.',
    );
    expect(onSave).not.toHaveBeenCalled();
  });

  it('lets an entry be edited in place, and #domain is another entry than domain', async () => {
    const others = table.filter((r) => r.sentTo !== 'partner.example');
    const edit = open(table[1]!, others);
    await edit.user.click(screen.getByLabelText("Should be accepted as 'inbound'"));
    await edit.user.click(screen.getByRole('button', { name: 'OK' }));
    expect(edit.onSave).toHaveBeenCalledWith({ sentTo: 'partner.example', routeTo: '<inbound>' });
    edit.unmount();

    const exact = open(null);
    await exact.user.type(screen.getByLabelText('E-mail sent to this domain:'), '#partner.example');
    await exact.user.click(screen.getByRole('button', { name: 'OK' }));
    expect(exact.onSave).toHaveBeenCalledWith({ sentTo: '#partner.example', routeTo: '<inbound>' });
  });

  it('names the mistake in a host written as a URL', async () => {
    const { user, onSave } = open(null);
    await user.type(screen.getByLabelText('E-mail sent to this domain:'), 'branch.example');
    await user.click(screen.getByLabelText('Should be rerouted to this host'));
    const host = screen.getByLabelText(
      'Host (name or address, optional :port):',
    ) as HTMLInputElement;
    await user.type(host, 'smtp://mx.branch.example');
    await user.tab();
    expect(host.value).toBe('smtp://mx.branch.example');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/not a URL/);
    expect(onSave).not.toHaveBeenCalled();
  });
});
