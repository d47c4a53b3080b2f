import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '../../../lib/api';
import type { AuditPage } from '../../../lib/contract';

export interface AuditFilter {
  before?: number;
  action?: string;
  actor?: string;
}

export const auditKeys = {
  all: ['audit'] as const,
  page: (f: AuditFilter) => ['audit', 'page', f] as const,
};

export const AUDIT_PAGE_SIZE = 25;

export const getAudit = (f: AuditFilter) =>
  api<AuditPage>('/audit', {
    query: {
      limit: AUDIT_PAGE_SIZE,
      before: f.before,
      action: f.action || undefined,
      actor: f.actor || undefined,
    },
  });

export const auditQuery = (f: AuditFilter) =>
  queryOptions({
    queryKey: auditKeys.page(f),
    queryFn: () => getAudit(f),
    placeholderData: keepPreviousData,
  });

export const useAudit = (f: AuditFilter) => useQuery(auditQuery(f));
