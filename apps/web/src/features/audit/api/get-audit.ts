import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { auditKeys } from '../../../lib/query-keys';

export interface AuditFilter {
  before?: number;
  action?: string;
  actor?: string;
  /** Sign-ins and sign-outs are left out unless this is true. */
  signIns?: boolean;
}

export const AUDIT_PAGE_SIZE = 25;

export const getAudit = (f: AuditFilter, signal?: AbortSignal) =>
  api.audit(
    {
      limit: AUDIT_PAGE_SIZE,
      ...(f.before === undefined ? {} : { before: f.before }),
      ...(f.action ? { action: f.action } : {}),
      ...(f.actor ? { actor: f.actor } : {}),
      signIns: f.signIns === true,
    },
    { signal },
  );

export const auditQuery = (f: AuditFilter) =>
  queryOptions({
    queryKey: auditKeys.page(f),
    queryFn: ({ signal }) => getAudit(f, signal),
    placeholderData: keepPreviousData,
  });

export const useAudit = (f: AuditFilter) => useQuery(auditQuery(f));
