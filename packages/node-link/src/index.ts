/**
 * @ims/node-link: a node's side of the attach API (docs/design.md §4), the
 * same for every engine: the console link, the settings every node reads,
 * and the answers every engine words the same. `@ims/node-link/testing` has
 * a stand-in console for the tests of an engine.
 */

export * from './answers';
export * from './console-link';
export * from './console-transport';
export * from './settings';
