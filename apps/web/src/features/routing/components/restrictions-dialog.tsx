import { RESTRICTION_LABELS, type RerouteMode, type Restrictions } from '@ims/routing-core';

/** The original dialog's words for the never-route list. */
export const NEVER_ROUTE_LEGEND = 'Specify the hosts and clients that can NEVER route mail';

import { useId, useState } from 'react';
import { Dialog } from '../../../components/ui/dialog';
import { fieldsUnder } from '../../../lib/problem';
import { IpList } from './ip-list';

/**
 * Routing Restrictions: who may route (relay) mail. The ticked criteria are
 * OR-ed; the never-route list is checked first and wins.
 */
export function RestrictionsDialog({
  restrictions,
  rerouteMode,
  errors,
  onSave,
  onClose,
}: {
  restrictions: Restrictions;
  /** The reroute mode chosen on the Routing tab: with "Do not reroute" these restrictions change nothing. */
  rerouteMode: RerouteMode;
  /** Field errors keyed by pointer relative to /restrictions. */
  errors: Record<string, string>;
  onSave: (restrictions: Restrictions) => void;
  onClose: () => void;
}) {
  const id = useId();
  const [r, setR] = useState<Restrictions>(() => structuredClone(restrictions));
  const none = !r.authenticated && !r.clientAddresses.enabled && !r.internalAddresses.enabled;
  return (
    <Dialog
      title="Routing Restrictions"
      onClose={onClose}
      width={520}
      footer={
        <>
          <button type="button" className="default" onClick={() => onSave(r)}>
            OK
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </>
      }
    >
      {rerouteMode === 'no-reroute' ? (
        // The advisor's restrictions-unused finding, said where the lists are edited (DESIGN §2 rule 4).
        <p className="finding-inline info" role="note">
          These restrictions apply only when rerouting. While "Do not reroute incoming SMTP mail" is
          chosen no mail is relayed, so nothing set here changes what the service does until
          "Reroute incoming SMTP mail" is chosen.
        </p>
      ) : null}
      <p className="help">
        Reroute (relay) only from hosts and clients that meet any ticked condition (Q260562). Mail
        for local recipients is always accepted.
      </p>
      <fieldset>
        <legend>
          Specify the hosts and clients that can route mail when the following conditions have been
          met:
        </legend>
        <div className="field-row">
          <input
            id={`${id}-auth`}
            type="checkbox"
            checked={r.authenticated}
            onChange={(e) => setR({ ...r, authenticated: e.target.checked })}
          />
          <label htmlFor={`${id}-auth`}>{RESTRICTION_LABELS.authenticated}</label>
        </div>
        <div className="field-row">
          <input
            id={`${id}-client`}
            type="checkbox"
            checked={r.clientAddresses.enabled}
            onChange={(e) =>
              setR({ ...r, clientAddresses: { ...r.clientAddresses, enabled: e.target.checked } })
            }
          />
          <label htmlFor={`${id}-client`}>{RESTRICTION_LABELS.clientAddresses}</label>
        </div>
        <IpList
          label={RESTRICTION_LABELS.clientAddresses}
          entries={r.clientAddresses.entries}
          disabled={!r.clientAddresses.enabled}
          errors={fieldsUnder(errors, '/clientAddresses/entries')}
          onChange={(entries) => setR({ ...r, clientAddresses: { ...r.clientAddresses, entries } })}
        />
        <div className="field-row">
          <input
            id={`${id}-internal`}
            type="checkbox"
            checked={r.internalAddresses.enabled}
            onChange={(e) =>
              setR({
                ...r,
                internalAddresses: { ...r.internalAddresses, enabled: e.target.checked },
              })
            }
          />
          <label htmlFor={`${id}-internal`}>{RESTRICTION_LABELS.internalAddresses}</label>
        </div>
        <IpList
          label={RESTRICTION_LABELS.internalAddresses}
          entries={r.internalAddresses.entries}
          disabled={!r.internalAddresses.enabled}
          errors={fieldsUnder(errors, '/internalAddresses/entries')}
          onChange={(entries) =>
            setR({ ...r, internalAddresses: { ...r.internalAddresses, entries } })
          }
        />
        {none ? (
          <p className="finding-inline critical" role="note">
            No condition is ticked: anyone may relay through this service (an open relay).
          </p>
        ) : null}
      </fieldset>
      <div className="never-route">
        <IpList
          showLegend
          label={NEVER_ROUTE_LEGEND}
          entries={r.neverRoute}
          errors={fieldsUnder(errors, '/neverRoute')}
          onChange={(neverRoute) => setR({ ...r, neverRoute })}
        />
        <p className="help">Checked first: these never relay, whatever is ticked above.</p>
      </div>
    </Dialog>
  );
}
