import { type RoutingConfig, routingConfigJsonSchema } from '@ims/routing-core';
import { Type } from 'typebox';

const { $schema: _schema, $id: _id, ...configSchema } = routingConfigJsonSchema;
/** The configuration document of docs/design.md §2 (shape only: the server also runs routing-core's validate()). */
export const RoutingConfigSchema = Type.Unsafe<RoutingConfig>(configSchema);
