/**
 * The environment of the local SMTP node: an allow list, not a copy of the
 * launcher's. The node is the Internet-facing process (least privilege,
 * STYLE.md §4 rule 5): it gets its own settings (every IMS_SMTP_* variable,
 * IMS_SMART_HOST, IMS_TRAFFIC_WINDOW_DAYS), what the launcher sets for it
 * (console URL, node token, data directory), and what a process needs to run
 * (PATH, HOME, locale, time zone, temp directory, Node's CA settings).
 * Never the console's secrets: IMS_ADMIN_PASSWORD, IMS_TOKEN, TLS keys of
 * the console, anything else.
 */

/** Variables passed as they are, when set. */
const PASSED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'NO_COLOR',
  'FORCE_COLOR',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'SYSTEMROOT',
  'IMS_SMART_HOST',
  'IMS_TRAFFIC_WINDOW_DAYS',
  // The Postfix agent's (IMS_SMTP_ENGINE=postfix).
  'IMS_POSTFIX_HOSTNAME',
  // How the SMTP workers share connections (cluster/primary.ts; README, "SMTP workers").
  'NODE_CLUSTER_SCHED_POLICY',
]);
/** Prefixes of the node's own settings. */
const PASSED_PREFIXES = ['IMS_SMTP_'];

/** The local node's environment: the allowed part of `parent`, then `own` (which wins). */
export function localNodeEnv(
  parent: NodeJS.ProcessEnv,
  own: Record<string, string | undefined>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (PASSED.has(name) || PASSED_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  for (const [name, value] of Object.entries(own)) if (value !== undefined) env[name] = value;
  return env;
}
