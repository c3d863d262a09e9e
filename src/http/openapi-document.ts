import { z } from 'zod';
import { errorBodySchema } from '../contracts/errors.js';
import { PATH_PARAMETERS, type RouteSpec } from './route-spec.js';

/**
 * The OpenAPI 3.1 document of the controller's API, generated from the route table and the zod
 * schemas the routes validate with (`z.toJSONSchema`, as input: fields with defaults are optional).
 */

type JsonObject = Record<string, unknown>;

/** One criterion of a gate (`gate.criteria[]` of a use case, README "Gates and guards"). */
const GATE_CRITERION = z.object({
  name: z
    .string()
    .describe(
      'the plan field; `segment:<field>=<value>` for one segment value; `labelRecallLowerBound:<label>` or `labelPrecisionLowerBound:<label>` for one label',
    ),
  required: z.union([z.number(), z.string()]),
  actual: z.union([z.number(), z.string(), z.null()]).describe('null while there is nothing to measure'),
  status: z
    .enum(['holds', 'inconclusive', 'blocked'])
    .describe(
      'inconclusive: does not hold yet, more evidence may change it; blocked: fails on the evidence the plan asks for',
    ),
  holds: z.boolean().describe("status === 'holds'"),
  detail: z.string().optional(),
  observed: z
    .number()
    .nullable()
    .optional()
    .describe(
      'agreement criteria: the mean agreement observed; maxErrorCostPerDecision: the mean cost (USD)',
    ),
  samples: z
    .number()
    .int()
    .optional()
    .describe(
      'agreement criteria: the decisions the bound counts (AI failures on decided requests included under aiFailures: disagree)',
    ),
});

const GATE_WARNING = z.object({
  code: z.enum(['majority-baseline']),
  message: z.string(),
});

export function buildOpenApiDocument(routes: readonly RouteSpec[]): JsonObject {
  const schemas: Record<string, JsonObject> = {};
  const named = new Map<string, z.ZodType>();
  for (const { body } of routes) {
    for (const { name, schema } of body ?? []) {
      if (named.get(name) === schema) continue;
      if (named.has(name)) throw new Error(`two request schemas are named ${name}`);
      named.set(name, schema);
      addComponent(schemas, name, schema);
    }
  }
  addComponent(schemas, 'Error', errorBodySchema);
  addComponent(schemas, 'GateCriterion', GATE_CRITERION);
  addComponent(schemas, 'GateWarning', GATE_WARNING);

  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Shadowgate controller API',
      version: '1',
      description:
        'Shadow-mode rollout controller for AI systems. Errors are `{error, message, details: [{path, problem}]}`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key' } },
    },
  };
}

/** `/v1/use-cases/:id` → `/v1/use-cases/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function operation(route: RouteSpec): JsonObject {
  const op: JsonObject = {
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: route.permission === null ? [] : [{ bearer: [] }],
  };
  if (route.permission !== null) op['x-shadowgate-permission'] = route.permission;
  const parameters = [...pathParameters(route), ...queryParameters(route)];
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) op.requestBody = requestBody(route);
  op.responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, description]) => [
      status,
      response(route, Number(status), description),
    ]),
  );
  return op;
}

function pathParameters(route: RouteSpec): JsonObject[] {
  return [...route.path.matchAll(/:(\w+)/g)].map(([, name]) => {
    const schema = route.params?.[name!] ?? PATH_PARAMETERS[name!];
    if (!schema) throw new Error(`no schema for path parameter ${name} of ${route.path}`);
    return { name, in: 'path', required: true, schema: inline(schema) };
  });
}

function queryParameters(route: RouteSpec): JsonObject[] {
  if (!route.query) return [];
  const schema = inline(route.query);
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: property,
  }));
}

function requestBody(route: RouteSpec): JsonObject {
  const refs = (route.body ?? []).map(({ name }) => ({ $ref: `#/components/schemas/${name}` }));
  const schema = refs.length === 1 ? refs[0] : { oneOf: refs };
  const content: JsonObject = { 'application/json': { schema } };
  if (route.textBody) content['application/yaml'] = { schema };
  return { required: true, content };
}

function response(route: RouteSpec, status: number, description: string): JsonObject {
  if (status === 204) return { description };
  if (status >= 400) {
    return {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const types = route.produces ?? ['application/json'];
  const answer = (type: string) =>
    type === 'application/json' && route.response ? { schema: inline(route.response, 'output') } : {};
  return { description, content: Object.fromEntries(types.map((t) => [t, answer(t)])) };
}

/** A schema without `$defs`, for parameters (ids and query fields are flat) and answers. */
function inline(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonObject {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
  }) as JsonObject;
  return rest;
}

/**
 * A component, with its `$defs` hoisted to components of their own (`<Name>__<def>`): inside an
 * OpenAPI document `#/$defs/…` would point at the document's root, not at the schema.
 */
function addComponent(into: Record<string, JsonObject>, name: string, schema: z.ZodType): void {
  const {
    $schema: _,
    $defs,
    ...body
  } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonObject;
  const local = (key: string) => `${name}__${key.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) =>
        k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
          ? [k, `#/components/schemas/${local(v.slice('#/$defs/'.length))}`]
          : [k, rewrite(v)],
      ),
    );
  };
  into[name] = rewrite(body) as JsonObject;
  for (const [key, def] of Object.entries(($defs ?? {}) as JsonObject))
    into[local(key)] = rewrite(def) as JsonObject;
}
