import { screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { renderWithClient } from '../../../testing/render';
import { IpEntryDialog } from './ip-entry-dialog';

function open() {
  const onSave = vi.fn();
  const rendered = renderWithClient(
    <IpEntryDialog title="Add IP address" entry={null} onSave={onSave} onClose={() => {}} />,
  );
  const ip = screen.getByLabelText('IP address:') as HTMLInputElement;
  const mask = screen.getByLabelText('Subnet mask:') as HTMLInputElement;
  return { ...rendered, onSave, ip, mask };
}

describe('IpEntryDialog', () => {
  it('shows the entry normalised as soon as a field is left, says why, and saves it so', async () => {
    const { user, onSave, ip, mask } = open();
    await user.type(ip, ' 192.168.1.77 ');
    await user.clear(mask);
    await user.type(mask, '24');
    await user.tab();
    expect(ip.value).toBe('192.168.1.0');
    expect(mask.value).toBe('255.255.255.0');
    expect(screen.getByRole('status').textContent).toMatch(/192\.168\.1\.77/);
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect(onSave).toHaveBeenCalledWith({ ip: '192.168.1.0', mask: '255.255.255.0' });
  });

  it('a single host keeps its address; IPv6 is written in its short form', async () => {
    const first = open();
    await first.user.type(first.ip, '10.9.9.9');
    await first.user.tab();
    expect(first.ip.value).toBe('10.9.9.9');
    expect(first.mask.value).toBe('255.255.255.255');
    expect(screen.queryByRole('status')).toBeNull();
    first.unmount();

    const second = open();
    await second.user.type(second.ip, '2001:DB8:0:0::1');
    await second.user.clear(second.mask);
    await second.user.type(second.mask, '128');
    await second.user.tab();
    expect(second.ip.value).toBe('2001:db8::1');
    await second.user.click(screen.getByRole('button', { name: 'OK' }));
    expect(second.onSave).toHaveBeenCalledWith({ ip: '2001:db8::1', mask: '128' });
  });

  it('names the mistake and saves nothing', async () => {
    const { user, onSave, ip, mask } = open();
    await user.type(ip, '192.168.1.300');
    await user.tab();
    expect(ip.value).toBe('192.168.1.300');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/192\.168\.1\.300/);
    await user.clear(ip);
    await user.type(ip, '192.168.1.0');
    await user.clear(mask);
    await user.type(mask, '255.0.255.0');
    await user.click(screen.getByRole('button', { name: 'OK' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/mask/i);
    expect(onSave).not.toHaveBeenCalled();
  });
});
