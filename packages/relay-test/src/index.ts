/**
 * @ims/relay-test: the open-relay self-test. `relayBattery()` lists the cases
 * (every address-trick family, the Q255695 NDR relay, and positive controls);
 * `runRelayTest()` runs them over raw SMTP from a chosen source address.
 * Depends on nothing but Node.
 */

export * from './battery';
export * from './run';
