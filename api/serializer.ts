import type { FastifySerializerCompiler } from 'fastify/types/schema';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { presentInstants } from '../domain/time';

/**
 * The JSON serializer of every route with a zod response schema: the instants the schema declares
 * are shown in the office's `zone`, then the response is checked against the schema and written.
 * What is formatted follows the declaration, never the look of a value.
 */
export function zonedSerializerCompiler(zone: string): FastifySerializerCompiler<z.ZodType | { properties: z.ZodType }> {
  return (route) => {
    const inner = serializerCompiler(route);
    const schema = route.schema instanceof z.ZodType ? route.schema : route.schema.properties;
    return (data) => inner(presentInstants(schema, data, zone));
  };
}
