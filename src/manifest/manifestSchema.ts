/**
 * manifestSchema: the one source of a manifest's structure. `loadFlow` validates with it, and the published JSON
 * Schema (schema/manifest.schema.json, `manifestJsonSchema()`) is generated from it. Every schema carries the
 * message its failure shows, so problems read `expected a positive integer, got -1`.
 *
 * What a schema cannot know (registered routine types, their slots and events, config keys, `until` syntax,
 * environment variables) is checked by `loadFlow` after this.
 */
import type { FlowManifest } from 'slotflow';
import { z } from 'zod';
import { describeInput, quoteList } from './describeInput.js';

/** A schema's error option: `missing; expected X` or `expected X, got Y`. */
const expecting = (what: string) => ({
  error: (issue: { readonly input?: unknown }) => (issue.input === undefined ? `missing; expected ${what}` : `expected ${what}, got ${describeInput(issue.input)}`),
});

/** A strict object: an unknown field is a problem naming the fields allowed. */
function object<TShape extends z.ZodRawShape>(shape: TShape, what: string, fields = quoteList(Object.keys(shape))) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `expected one of ${fields}` : expecting(what).error(issue)),
  });
}

const name = (what: string) => z.string(expecting(what)).min(1, expecting(what));
const positiveInteger = z.int(expecting('a positive integer')).min(1, expecting('a positive integer'));
const positiveNumber = z.number(expecting('a number above 0')).positive(expecting('a number above 0'));
const duration = z.number(expecting('a number of milliseconds from 0 and up')).nonnegative(expecting('a number of milliseconds from 0 and up'));
const STRATEGY_NAMES = ['stop', 'continue', 'skip'] as const;
const strategyName = z.enum(STRATEGY_NAMES, expecting(quoteList(STRATEGY_NAMES)));

const errorStrategy = z
  .union(
    [
      strategyName,
      object(
        {
          retry: object(
            {
              max: z.int(expecting('an integer from 0 and up')).min(0, expecting('an integer from 0 and up')).meta({ description: 'Retries after the first attempt.' }),
              backoffMs: duration.optional().meta({ description: 'Wait before retry k: backoffMs * factor^k. Default 0.' }),
              factor: z.number(expecting('a number above 0')).positive(expecting('a number above 0')).optional().meta({ description: 'Default 2.' }),
              maxBackoffMs: duration.optional().meta({ description: 'Cap on the wait.' }),
            },
            '{ max, backoffMs?, factor?, maxBackoffMs? }',
          ),
          then: strategyName.optional().meta({ description: "When retries are spent. Default 'stop'." }),
        },
        '{ retry: { max }, then? }',
      ),
    ],
    expecting(`'stop', 'continue', 'skip' or { retry: { max }, then? }`),
  )
  .meta({ description: 'What a failed activation does.' });

/** The built-in policies, by the name of their factory in `policies`. */
export const POLICY_TYPES = ['immediate', 'batch', 'allReady', 'interval', 'window'] as const;
const SHORT_POLICIES = ['immediate', 'allReady'] as const;
const slotList = z.array(name('a slot name'), expecting('an array of slot names')).min(1, expecting('an array of slot names')).meta({ description: 'The slots the policy looks at. Default: all.' });
const ms = z.number(expecting('a number of milliseconds above 0')).positive(expecting('a number of milliseconds above 0'));

const policyObject = z.discriminatedUnion(
  'type',
  [
    object({ type: z.literal('immediate') }, '{ type: immediate }'),
    object({ type: z.literal('batch'), n: positiveInteger.meta({ description: 'Items taken from each slot.' }), slots: slotList.optional() }, '{ type: batch, n, slots? }'),
    object({ type: z.literal('allReady'), slots: slotList.optional() }, '{ type: allReady, slots? }'),
    object({ type: z.literal('interval'), ms: ms.meta({ description: 'Least time between activations.' }) }, '{ type: interval, ms }'),
    object({ type: z.literal('window'), ms: ms.meta({ description: 'How long a window stays open.' }) }, '{ type: window, ms }'),
  ],
  {
    error: (issue) => {
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return type === undefined ? `missing; expected a policy type: ${quoteList(POLICY_TYPES)}` : `unknown policy ${describeInput(type)}; expected one of ${quoteList(POLICY_TYPES)}`;
    },
  },
);

const policy = z
  .union([z.enum(SHORT_POLICIES), policyObject], {
    error: (issue) => {
      const input = issue.input;
      if (typeof input === 'string' && (POLICY_TYPES as readonly string[]).includes(input)) return `policy '${input}' takes parameters; write { type: ${input}, ... }`;
      if (typeof input === 'string') return `unknown policy '${input}'; expected one of ${quoteList(POLICY_TYPES)}`;
      return `expected a policy ('immediate', 'allReady' or { type, ...parameters }), got ${describeInput(input)}`;
    },
  })
  .meta({ description: "When the routine fires: 'immediate', 'allReady', or { type, ...parameters }." });

/** A connection end: `<routine>.<event>` or `<routine>.<slot>`. */
export const REF = /^[^.\s]+\.[^.\s]+$/;
const ref = (what: 'event' | 'slot') => z.string(expecting(`'<routine>.<${what}>'`)).regex(REF, expecting(`'<routine>.<${what}>'`));
const mapping = (what: 'event' | 'slot') =>
  z.record(z.string().regex(/^[^.]+$/, { error: () => `a ${what} name must be non-empty and contain no '.'` }), ref(what), expecting(`a mapping of ${what} name -> the child flow's '<routine>.<${what}>'`));

const routine = object(
  {
    type: name('a routine type (a registered routine definition name, or flow:<id>)').meta({
      description: "The routine definition's name, looked up in the routine registry; or flow:<id>, a flow of the `flows` section run as a subflow.",
    }),
    slots: mapping('slot').optional().meta({ description: "A subflow's slots (type flow:<id>): slot name -> the child flow's '<routine>.<slot>'." }),
    events: mapping('event').optional().meta({ description: "A subflow's events (type flow:<id>): event name -> the child flow's '<routine>.<event>' it re-emits." }),
    config: z
      .record(z.string(), z.unknown(), expecting('a mapping of config keys to values'))
      .optional()
      .meta({ description: "Merged over the definition's config. Strings may hold ${env.NAME} or ${env.NAME:-default}." }),
    policy: policy.optional(),
    onError: errorStrategy.optional(),
    timeoutMs: duration.optional().meta({ description: 'Bound on one activation (ms).' }),
    maxQueue: positiveInteger.optional().meta({ description: 'Bound on each slot queue.' }),
    isolation: z
      .enum(['inline', 'thread'], expecting("'inline' or 'thread'"))
      .optional()
      .meta({ description: "Where activations run: 'inline' (the main thread) or 'thread' (a worker thread; the definition needs `module`). Default: the definition's." }),
    resourceLimits: object(
      {
        maxOldGenerationSizeMb: positiveNumber.optional().meta({ description: "The thread's main heap (MB)." }),
        maxYoungGenerationSizeMb: positiveNumber.optional().meta({ description: 'The heap space for recently created objects (MB).' }),
        codeRangeSizeMb: positiveNumber.optional().meta({ description: 'The memory range reserved for generated code (MB).' }),
        stackSizeMb: positiveNumber.optional().meta({ description: "The thread's stack (MB)." }),
      },
      '{ maxOldGenerationSizeMb?, maxYoungGenerationSizeMb?, codeRangeSizeMb?, stackSizeMb? }',
    )
      .optional()
      .meta({ description: "Limits of the routine's worker thread (isolation 'thread')." }),
  },
  '{ type, slots?, events?, config?, policy?, onError?, timeoutMs?, maxQueue?, isolation?, resourceLimits? }',
);

const connection = object(
  {
    from: ref('event').meta({ description: "'<routine>.<event>'" }),
    to: ref('slot').meta({ description: "'<routine>.<slot>'" }),
    name: name('a connection name').optional().meta({ description: "The edge's name (in job state `cycles`). Default '<from>-><to>'." }),
    maxIterations: positiveInteger.optional().meta({ description: 'Bound on deliveries over this edge: required on an edge that closes a cycle.' }),
    until: name('an expression').optional().meta({ description: "Convergence guard over the payload's fields, e.g. 'converged == true' or 'n >= 10 and not failed'." }),
    onExhausted: z.enum(['continue', 'fail'], expecting("'continue' or 'fail'")).optional().meta({ description: "Reaching maxIterations: 'continue' (default) or 'fail' the job." }),
  },
  '{ from, to, name?, maxIterations?, until?, onExhausted? }',
);

const flowFields = {
  defaults: object({ onError: errorStrategy.optional() }, '{ onError? }').optional().meta({ description: 'Flow-level defaults.' }),
  routines: z
    .record(z.string().regex(/^[^.]+$/, { error: () => "a routine id must be non-empty and contain no '.'" }), routine, expecting('a mapping of routine id -> { type, ... }'))
    .meta({ description: 'Routine id -> routine.' }),
  connections: z.array(connection, expecting('an array of connections')).optional().meta({ description: 'Event -> slot connections, in order.' }),
  entry: object(
    { routine: name('a routine id'), slot: name('a slot name').optional().meta({ description: "Default: the routine's first slot." }) },
    '{ routine, slot? }',
  )
    .optional()
    .meta({ description: 'Where exec params are delivered. Default: the first routine, its first slot.' }),
};

const subflowManifest = object(flowFields, 'a flow { routines, connections?, entry?, defaults? }');

const manifestFields = {
  $schema: z.string(expecting('a string')).optional().meta({ description: 'A JSON Schema reference, for editors; ignored.' }),
  id: name('a flow id (a non-empty string)').meta({ description: "The flow's id." }),
  ...flowFields,
  flows: z
    .record(name('a flow id'), subflowManifest, expecting('a mapping of flow id -> { routines, connections?, entry?, defaults? }'))
    .optional()
    .meta({ description: 'Flows run as subflows (a routine of type flow:<id>) by this flow or by one another, by id.' }),
};

/**
 * The manifest schema. Top-level `x-*` fields (YAML anchors for merge keys: `x-defaults: &defaults { ... }`) are
 * allowed and ignored: `loadFlow` drops them before validating, and the JSON Schema allows them by pattern.
 */
export const manifestSchema = object(
  manifestFields,
  'a manifest object { id, routines, connections?, entry?, defaults?, flows? }',
  `${quoteList(Object.keys(manifestFields))} (or any x-* field, ignored)`,
).meta({
  title: 'slotflow flow manifest',
  description: 'A slotflow flow as data, for loadFlow() from slotflow/manifest and the slotflow CLI.',
  patternProperties: { '^x-': { description: 'Ignored: a place for YAML anchors the rest of the document merges in (<<: *name).' } },
});

/** A manifest that passed the schema. */
export type ParsedManifest = z.output<typeof manifestSchema>;

// The schema and the core's `FlowManifest` type describe the same documents (an optional field the schema lets
// through as `undefined` is simply absent in `FlowManifest`).
type Defined<T> = T extends readonly (infer U)[] ? Defined<U>[] : T extends object ? { [K in keyof T]: Defined<Exclude<T[K], undefined>> } : T;
const _sameShape: Defined<ParsedManifest> extends FlowManifest ? true : never = true;

/**
 * The JSON Schema of manifests (draft 2020-12), generated from the schema `loadFlow` validates with; the package
 * ships it as `schema/manifest.schema.json`.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(manifestSchema, { target: 'draft-2020-12', io: 'input' });
}
