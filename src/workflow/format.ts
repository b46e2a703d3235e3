/**
 * The workflow file: a definition exported from the editor to share or back up, and imported
 * elsewhere. Versioned: `{"format": "imis-workflow", "version": 1, "workflow": {...}}`; a file of a
 * newer version is refused with a message that says so. The format is documented in the
 * imis-workflow node's help and in docs/workflows.md.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ExpectedError } from '../core/errors.js';
import { lazy } from '../core/lazy.js';
import { TRIGGER_TYPES, normalizeDefinition, parseTrigger } from './definition.js';
import type { WorkflowDefinition } from './definition.js';

export const FORMAT = 'imis-workflow';
export const FORMAT_VERSION = 1;

export interface WorkflowFile {
  format: typeof FORMAT;
  version: number;
  exportedAt?: string;
  workflow: WorkflowDefinition;
}

export class WorkflowFileError extends ExpectedError {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowFileError';
  }
}

const text = { type: 'string' };
const SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'workflow'],
  properties: {
    format: { const: FORMAT },
    version: { type: 'integer', minimum: 1 },
    exportedAt: text,
    workflow: {
      type: 'object',
      required: ['code', 'states', 'transitions'],
      properties: {
        code: { type: 'string', minLength: 1 },
        description: text,
        enabled: { type: 'boolean' },
        instanceMode: { enum: ['record', 'run'] },
        keyType: { enum: ['template', 'msg'] },
        key: text,
        states: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code'],
            properties: {
              code: text,
              description: text,
              initial: { type: 'boolean' },
              final: { type: 'boolean' },
              timeoutHours: { type: ['number', 'null'], exclusiveMinimum: 0 },
              onTimeout: text,
            },
          },
        },
        transitions: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'from', 'to', 'trigger'],
            properties: {
              code: text,
              description: text,
              from: text,
              to: text,
              trigger: text,
              enabled: { type: 'boolean' },
              condition: text,
            },
          },
        },
      },
    },
  },
};

/** Compiled when the first file is imported (lazy.ts): ajv compiles to code, which costs memory. */
const check = lazy((): ValidateFunction<WorkflowFile> => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv({ allErrors: true, strict: false }).compile<WorkflowFile>(SCHEMA);
});

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(file)'} ${e.message ?? 'is not valid'}`)
    .join('; ');
}

/** The file of a definition (as a string with `JSON.stringify(..., null, 2)`). */
export function exportWorkflow(def: WorkflowDefinition, now = new Date()): WorkflowFile {
  const d = normalizeDefinition({ ...def });
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    exportedAt: now.toISOString(),
    workflow: {
      code: d.code,
      description: d.description,
      enabled: d.enabled,
      instanceMode: d.instanceMode,
      keyType: d.keyType,
      key: d.key,
      states: d.states.map((s) => ({
        code: s.code,
        description: s.description,
        initial: s.initial,
        final: s.final,
        timeoutHours: s.timeoutHours ?? null,
        onTimeout: s.onTimeout,
      })),
      transitions: d.transitions.map((t) => ({
        code: t.code,
        description: t.description,
        from: t.from,
        to: t.to,
        trigger: t.trigger,
        enabled: t.enabled,
        condition: t.condition,
      })),
    },
  };
}

/**
 * The definition in a workflow file (text or parsed JSON). Throws WorkflowFileError when it is
 * not one, is of a newer version, or names an unknown trigger type; the definition's own rules
 * (validate.ts) are left to the caller, which shows them where they can be fixed.
 */
export function importWorkflow(file: unknown): WorkflowDefinition {
  let data = file;
  if (typeof file === 'string') {
    try {
      data = JSON.parse(file);
    } catch (err) {
      throw new WorkflowFileError(`The file is not JSON: ${(err as Error).message}`);
    }
  }
  const header = data as Partial<WorkflowFile> | null;
  if (!header || typeof header !== 'object' || header.format !== FORMAT)
    throw new WorkflowFileError(`The file is not an iMIS workflow (its "format" must be "${FORMAT}")`);
  if (typeof header.version === 'number' && header.version > FORMAT_VERSION)
    throw new WorkflowFileError(
      `The file is a version ${header.version} workflow, newer than this package reads (${FORMAT_VERSION}): upgrade @imisflow/node-red-imis`,
    );
  const valid = check();
  if (!valid(data)) throw new WorkflowFileError(`The workflow file is not valid: ${describe(valid.errors)}`);
  const unknown = data.workflow.transitions.filter((t) => !parseTrigger(t.trigger));
  if (unknown.length)
    throw new WorkflowFileError(
      `Transition ${unknown[0].code} has an unknown trigger type "${unknown[0].trigger}" (one of ${TRIGGER_TYPES.join(', ')})`,
    );
  return normalizeDefinition({ ...data.workflow });
}
