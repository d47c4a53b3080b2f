import type { EvaluateBody } from '@ims/api-client';
import { useMutation } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';

/** POST /api/v1/routing/evaluate: the decision, SMTP reply and trace for one recipient. */
export const evaluateRecipient = (body: EvaluateBody) => api.routing.evaluate(body);

export const useEvaluate = () => useMutation({ mutationFn: evaluateRecipient });
