import {
  findRoute,
  formatRouteTarget,
  INBOUND,
  normalizeRoute,
  parseRouteTarget,
  parseSentTo,
  type Route,
  routeExistsMessage,
} from '@ims/routing-core';
import { useId, useState } from 'react';
import { Dialog, OkCancel } from '../../../components/ui/dialog';

/** `Sales.Example.COM.` → `sales.example.com` (`#` kept), or the text as typed when it does not parse. */
function normalisedSentTo(text: string): string {
  const parsed = parseSentTo(text);
  if ('error' in parsed) return text.trim();
  return parsed.exact ? `#${parsed.domain}` : parsed.domain;
}

/** `MX.Partner.Example:0025` → `mx.partner.example:25`, or the text as typed when it does not parse. */
function normalisedHost(text: string): string {
  const parsed = parseRouteTarget(text.trim());
  return 'error' in parsed ? text.trim() : formatRouteTarget(parsed);
}

/**
 * Add or edit one routing-table entry: the domain, and inbound or a host.
 * Each field shows its normalised form as soon as it is left (as validate()
 * stores it); a domain another entry has already is refused with the
 * sentence `ims route add` uses.
 */
export function RouteDialog({
  route,
  others = [],
  onSave,
  onClose,
}: {
  route: Route | null;
  /** The table's other entries (all of them when adding). */
  others?: readonly Route[];
  onSave: (route: Route) => void;
  onClose: () => void;
}) {
  const id = useId();
  const [sentTo, setSentTo] = useState(route?.sentTo ?? '');
  const [inbound, setInbound] = useState(route ? route.routeTo === INBOUND : true);
  const [host, setHost] = useState(route && route.routeTo !== INBOUND ? route.routeTo : '');
  const [errors, setErrors] = useState<{ sentTo?: string; host?: string }>({});

  const submit = () => {
    const next: { sentTo?: string; host?: string } = {};
    const domain = parseSentTo(sentTo.trim());
    if (!sentTo.trim()) next.sentTo = 'Type the domain the mail is sent to.';
    else if ('error' in domain) next.sentTo = domain.error;
    if (!inbound) {
      const target = host.trim()
        ? parseRouteTarget(host.trim())
        : { error: 'Type the host to reroute to.' };
      if ('error' in target) next.host = target.error;
    }
    const normal = normalizeRoute({ sentTo, routeTo: inbound ? INBOUND : host.trim() });
    const existing = findRoute(others, sentTo);
    if (!next.sentTo && existing) {
      next.sentTo = `${routeExistsMessage(existing.route)} Select that entry and choose Edit... to change where its mail goes.`;
    }
    setErrors(next);
    if (next.sentTo || next.host || !normal.ok) return;
    onSave(normal.value);
  };

  return (
    <Dialog
      title="Edit Routing Table Entry"
      onClose={onClose}
      onSubmit={submit}
      footer={<OkCancel onCancel={onClose} />}
    >
      <div className="field-row-stacked">
        <label htmlFor={`${id}-domain`}>E-mail sent to this domain:</label>
        <input
          id={`${id}-domain`}
          type="text"
          value={sentTo}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={!!errors.sentTo}
          aria-describedby={`${id}-domain-help${errors.sentTo ? ` ${id}-domain-error` : ''}`}
          onChange={(e) => setSentTo(e.target.value)}
          onBlur={() => setSentTo((t) => normalisedSentTo(t))}
        />
        <p id={`${id}-domain-help`} className="help">
          <code>sales.example.com</code> also matches every subdomain (
          <code>x.sales.example.com</code>). Start with <code>#</code> (
          <code>#sales.example.com</code>) to match that domain only.
        </p>
        {errors.sentTo ? (
          <p id={`${id}-domain-error`} className="field-error" role="alert">
            {errors.sentTo}
          </p>
        ) : null}
      </div>
      <fieldset>
        <legend>Route to</legend>
        <div className="field-row">
          <input
            id={`${id}-inbound`}
            type="radio"
            name={`${id}-target`}
            checked={inbound}
            onChange={() => setInbound(true)}
          />
          <label htmlFor={`${id}-inbound`}>Should be accepted as 'inbound'</label>
        </div>
        <div className="field-row">
          <input
            id={`${id}-reroute`}
            type="radio"
            name={`${id}-target`}
            checked={!inbound}
            onChange={() => setInbound(false)}
          />
          <label htmlFor={`${id}-reroute`}>Should be rerouted to this host</label>
        </div>
        <div className="field-row-stacked indent">
          <label htmlFor={`${id}-host`}>Host (name or address, optional :port):</label>
          <input
            id={`${id}-host`}
            type="text"
            value={host}
            disabled={inbound}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={!!errors.host}
            aria-describedby={errors.host ? `${id}-host-error` : undefined}
            onChange={(e) => setHost(e.target.value)}
            onBlur={() => setHost((t) => normalisedHost(t))}
          />
          {errors.host ? (
            <p id={`${id}-host-error`} className="field-error" role="alert">
              {errors.host}
            </p>
          ) : null}
        </div>
      </fieldset>
    </Dialog>
  );
}
