import type { EvaluateBody } from '@ims/api-client';
import { defaultConfig, evaluate, formatReply, replyFor } from '@ims/routing-core';
import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockApi } from '../../../testing/mock-api';
import { renderWithClient } from '../../../testing/render';
import { WhatIfTab } from './what-if-tab';

describe('Test a recipient', () => {
  it('sends the inputs with the draft and shows the decision, reply and trace with the deciding rule', async () => {
    const draft = defaultConfig('example.com');
    const api = mockApi({
      'POST /routing/evaluate': (req) => {
        const { against, config: _c, ...input } = req.body as EvaluateBody;
        const decision = evaluate(draft, input);
        const reply = replyFor(decision);
        return { body: { against, decision, reply: { ...reply, line: formatReply(reply) } } };
      },
    });
    const { user } = renderWithClient(<WhatIfTab draft={draft} />);
    await user.clear(screen.getByLabelText('RCPT TO:'));
    await user.type(screen.getByLabelText('RCPT TO:'), '<victim@elsewhere.example>');
    await user.click(screen.getByRole('button', { name: 'Test' }));
    const result = await screen.findByRole('region', { name: 'Result' });
    expect(within(result).getByText('550 5.7.1 Relaying is prohibited')).toBeTruthy();
    expect(result.textContent).toMatch(/reject/);
    const body = api.calls('POST /routing/evaluate')[0]!.body as EvaluateBody;
    expect(body.against).toBe('draft');
    expect(body.config).toEqual(draft);
    const steps = within(screen.getByRole('list', { name: 'Trace' })).getAllByRole('listitem');
    expect(steps.filter((s) => s.getAttribute('aria-current') === 'step')).toHaveLength(1);
  });

  it('against the running configuration: no draft is sent, and a 409 is shown', async () => {
    const api = mockApi({
      'POST /routing/evaluate': {
        status: 409,
        body: {
          type: '/problems/conflict',
          title: 'Conflict',
          status: 409,
          detail: 'No SMTP node is running a configuration right now.',
        },
      },
    });
    const { user } = renderWithClient(<WhatIfTab draft={defaultConfig('example.com')} />);
    await user.click(screen.getByRole('radio', { name: 'What the service runs now' }));
    await user.click(screen.getByRole('button', { name: 'Test' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/No SMTP node/));
    expect((api.calls('POST /routing/evaluate')[0]!.body as EvaluateBody).config).toBeUndefined();
  });
});
