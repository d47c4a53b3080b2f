/**
 * @ims/api-contract: one TypeBox schema for every API body, and the route
 * table (routes.ts) that pairs them with a method and a path. The server
 * registers and validates from it and generates OpenAPI from it; the typed
 * client is typed by it. Each wire shape and each path is written once, here.
 */

export * from './directory';
export * from './impact';
export * from './postfix';
export * from './queue';
export * from './relay-test';
export * from './routes';
export * from './schemas';
export * from './service';
