import { ExpectedError } from '../core/errors.js';
import { SchemaValidationError, compileSchema, generateSchema } from '../core/schema.js';
import type { DraftChoice, Violation } from '../core/schema.js';
import { mountOnce } from './lib/http/routes.js';
import { packageRuntime } from './lib/package-runtime.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type { NodeDef, NodeMessage, NodeModule, PrevalidatingNode } from './lib/red.js';
import { fromConfig } from './lib/status.js';

interface SchemaConfig {
  name?: string;
  schema: string;
  schemaSource: 'config' | 'msg';
  property: string;
  onInvalid: 'error' | 'output';
  /** The draft the schema is read by; `auto`: its `$schema` (draft-07 without one). */
  draft: DraftChoice;
}

const config = new NodeConfig<SchemaConfig>(
  'imis-schema-validate',
  [
    (c) => ({
      schema: '{\n  "$schema": "http://json-schema.org/draft-07/schema#",\n  "type": "object"\n}',
      schemaSource: 'config',
      property: 'payload',
      onInvalid: 'error',
      ...c,
    }),
    // 2: the draft (issue 19); nodes saved before read `$schema`, as they did.
    (c) => ({ draft: 'auto', ...c }),
  ],
  ['property'],
);

const register: NodeModule = (RED) => {
  function SchemaValidateNode(this: PrevalidatingNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    // A message of another node starts a run here: the package's message hooks must be in place.
    packageRuntime(RED);
    const node = this;
    const { schema, schemaSource, property, onInvalid, draft } = config.read(def);
    // A schema that cannot compile is reported now (deploy) and again to each message it stops.
    let unusable: string | undefined;
    const configured =
      schemaSource === 'config'
        ? fromConfig(
            node,
            RED._('imis-schema-validate.status.bad-schema'),
            () => compileSchema(schema, { draft }),
            (err) => (unusable = RED._('imis-schema-validate.errors.bad-schema', { message: err.message })),
          )
        : undefined;

    const violationsOf = (msg: NodeMessage): Violation[] => {
      const validate = schemaSource === 'msg' ? compileSchema(msg.schema, { draft }) : configured;
      if (!validate) throw new ExpectedError(unusable ?? RED._('imis-schema-validate.errors.no-schema'));
      return validate(RED.util.getMessageProperty(msg, property));
    };

    // Asked by a Webhook in wired directly before this node, before it answers its caller (→ 400).
    // Only in "error" mode and with a configured schema: in "second output" mode the flow decides.
    node.prevalidate = (msg) => (schemaSource === 'config' && onInvalid === 'error' ? violationsOf(msg) : []);

    node.on('input', (msg, send, done) => {
      let violations: Violation[];
      try {
        violations = violationsOf(msg);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (violations.length === 0) {
        delete msg.schemaError;
        send(onInvalid === 'output' ? [msg, null] : msg);
        done();
        return;
      }
      const error = new SchemaValidationError(violations);
      msg.schemaError = { message: error.message, violations };
      if (onInvalid === 'output') {
        send([null, msg]);
        done();
      } else {
        done(error);
      }
    });
  }
  registerType(RED, 'imis-schema-validate', SchemaValidateNode, { settings: config.settings() });

  // "Generate schema from sample payload" in the editor.
  const write = RED.auth.needsPermission('imis-schema-validate.write');
  mountOnce(RED.httpAdmin, 'post', '/imis/schema/generate', write, (req, res) => {
    const { sample, draft } = req.body ?? {};
    if (sample === undefined) {
      res
        .status(400)
        .json({ error: RED._('imis-schema-validate.errors.bad-sample', { message: 'missing' }) });
      return;
    }
    const drafts = ['draft-04', 'draft-07', '2019-09', '2020-12'] as const;
    res.json(generateSchema(sample, { draft: drafts.find((d) => d === draft) ?? 'draft-07' }));
  });
};

export = register;
