/**
 * The routing configuration document (docs/design.md §2, "The configuration
 * document"): its types, a JSON Schema for it, and the defaults of a new
 * install. Field names are a contract that scripts depend on.
 */

export type RerouteMode = 'reroute' | 'no-reroute';

/** The "Route to" value that means: accept for local delivery. */
export const INBOUND = '<inbound>';

export interface Route {
  /** A domain (matches it and every subdomain), or `#domain` (that domain only). */
  sentTo: string;
  /** `<inbound>`, or `host` / `host:port` to reroute to. */
  routeTo: string;
}

export interface IpEntry {
  /** IPv4 or IPv6 address; stored as the network address. */
  ip: string;
  /** Dotted IPv4 mask or prefix length; stored dotted for IPv4, as a prefix length for IPv6. */
  mask: string;
}

export interface AddressList {
  enabled: boolean;
  entries: IpEntry[];
}

export interface Restrictions {
  /** "Hosts and clients that successfully authenticate". */
  authenticated: boolean;
  /** "Hosts and clients with these IP addresses" (the client's address). */
  clientAddresses: AddressList;
  /** "Hosts and clients connecting to these internal addresses" (the server address connected to). */
  internalAddresses: AddressList;
  /** "Hosts and clients that can never route mail": checked first, wins over every allow criterion. */
  neverRoute: IpEntry[];
}

export interface RoutingConfig {
  siteDomain: string;
  rerouteMode: RerouteMode;
  routes: Route[];
  restrictions: Restrictions;
  /** Reject unknown recipients at RCPT time (550 5.1.1) instead of accepting and sending an NDR. */
  rejectUnknownRecipients: boolean;
}

/** The most routes, and the most entries in one address list, a document may hold. */
export const MAX_ROUTES = 50_000;
export const MAX_ENTRIES = 50_000;

/** Defaults of a new install (docs/design.md §2 rule 11, plus recipient rejection on). */
export function defaultConfig(siteDomain: string): RoutingConfig {
  return {
    siteDomain,
    rerouteMode: 'reroute',
    routes: [{ sentTo: siteDomain, routeTo: INBOUND }],
    restrictions: {
      authenticated: true,
      clientAddresses: { enabled: false, entries: [] },
      internalAddresses: { enabled: false, entries: [] },
      neverRoute: [],
    },
    rejectUnknownRecipients: true,
  };
}

const ipEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['ip'],
  properties: {
    ip: { type: 'string', minLength: 1, maxLength: 64, description: 'IPv4 or IPv6 address' },
    mask: {
      type: 'string',
      minLength: 1,
      maxLength: 16,
      default: '255.255.255.255',
      description: 'Dotted IPv4 mask, or prefix length (IPv6 always a prefix length)',
    },
  },
} as const;

const addressListSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['enabled', 'entries'],
  properties: {
    enabled: { type: 'boolean' },
    entries: { type: 'array', maxItems: MAX_ENTRIES, items: ipEntrySchema },
  },
} as const;

/**
 * JSON Schema (draft 2020-12) of the document's shape. `validate()` checks the
 * same shape and, beyond it, what a schema cannot say (domain and address
 * syntax, contiguous masks), and normalises.
 */
export const routingConfigJsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://ims-routing-console.invalid/schemas/routing-config.json',
  title: 'RoutingConfig',
  type: 'object',
  additionalProperties: false,
  required: ['siteDomain', 'rerouteMode', 'routes', 'restrictions', 'rejectUnknownRecipients'],
  properties: {
    siteDomain: { type: 'string', minLength: 1, maxLength: 255 },
    rerouteMode: { enum: ['reroute', 'no-reroute'] },
    routes: {
      type: 'array',
      maxItems: MAX_ROUTES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sentTo', 'routeTo'],
        properties: {
          sentTo: { type: 'string', minLength: 1, maxLength: 256 },
          routeTo: { type: 'string', minLength: 1, maxLength: 270 },
        },
      },
    },
    restrictions: {
      type: 'object',
      additionalProperties: false,
      required: ['authenticated', 'clientAddresses', 'internalAddresses', 'neverRoute'],
      properties: {
        authenticated: { type: 'boolean' },
        clientAddresses: addressListSchema,
        internalAddresses: addressListSchema,
        neverRoute: { type: 'array', maxItems: MAX_ENTRIES, items: ipEntrySchema },
      },
    },
    rejectUnknownRecipients: { type: 'boolean' },
  },
} as const;
