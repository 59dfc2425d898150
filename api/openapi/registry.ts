import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/**
 * Every route registers itself here through `defineRoute`, so the OpenAPI document is
 * made from the same zod schemas that validate requests. One registry per process: the
 * document describes the routes, not an app instance.
 */
export const registry = new OpenAPIRegistry();

registry.registerComponent('securitySchemes', 'HTTPBearer', { type: 'http', scheme: 'bearer' });
