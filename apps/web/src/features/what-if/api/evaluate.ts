import { useMutation } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { EvaluateBody, EvaluateResult } from '../../../lib/contract';

/** POST /api/v1/routing/evaluate: the decision, SMTP reply and trace for one recipient. */
export const evaluateRecipient = (body: EvaluateBody) =>
  api<EvaluateResult>('/routing/evaluate', { method: 'POST', body });

export const useEvaluate = () => useMutation({ mutationFn: evaluateRecipient });
