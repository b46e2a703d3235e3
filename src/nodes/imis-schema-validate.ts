import { SchemaValidationError, compileSchema, generateSchema } from '../core/schema.js';
import type { Violation } from '../core/schema.js';
import { mountOnce } from './lib/http.js';
import { migrate } from './lib/migrations.js';

interface SchemaConfig {
  name?: string;
  schema: string;
  schemaSource: 'config' | 'msg';
  property: string;
  onInvalid: 'error' | 'output';
}

const migrations = [
  (c: Record<string, unknown>) => ({
    schema: '{}',
    schemaSource: 'config',
    property: 'payload',
    onInvalid: 'error',
    ...c,
  }),
];

export = function register(RED: any): void {
  function SchemaValidateNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<SchemaConfig>(raw, migrations);
    let configured: ((data: unknown) => Violation[]) | undefined;
    if (config.schemaSource === 'config') {
      try {
        configured = compileSchema(config.schema);
      } catch (err) {
        node.error(RED._('imis-schema-validate.errors.bad-schema', { message: (err as Error).message }));
        node.status({ fill: 'red', shape: 'ring', text: RED._('imis-schema-validate.status.bad-schema') });
      }
    }

    const violationsOf = (msg: Record<string, unknown>): Violation[] => {
      const validate = config.schemaSource === 'msg' ? compileSchema(msg.schema) : configured;
      if (!validate) throw new Error(RED._('imis-schema-validate.errors.no-schema'));
      return validate(RED.util.getMessageProperty(msg, config.property));
    };

    // Asked by a Webhook in wired directly before this node, before it answers its caller (→ 400).
    // Only in "error" mode and with a configured schema: in "second output" mode the flow decides.
    node.prevalidate = (msg: Record<string, unknown>): Violation[] =>
      config.schemaSource === 'config' && config.onInvalid === 'error' ? violationsOf(msg) : [];

    node.on('input', (msg: any, send: (m: unknown) => void, done: (err?: Error) => void) => {
      let violations: Violation[];
      try {
        violations = violationsOf(msg);
      } catch (err) {
        done(err as Error);
        return;
      }
      if (violations.length === 0) {
        delete msg.schemaError;
        send(config.onInvalid === 'output' ? [msg, null] : msg);
        done();
        return;
      }
      const error = new SchemaValidationError(violations);
      msg.schemaError = { message: error.message, violations };
      if (config.onInvalid === 'output') {
        send([null, msg]);
        done();
      } else {
        done(error);
      }
    });
  }
  RED.nodes.registerType('imis-schema-validate', SchemaValidateNode);

  // "Generate schema from sample payload" in the editor.
  const write = RED.auth.needsPermission('imis-schema-validate.write');
  mountOnce(RED.httpAdmin, 'post', '/imis/schema/generate', write, (req: any, res: any) => {
    const { sample, draft } = req.body ?? {};
    if (sample === undefined) {
      res
        .status(400)
        .json({ error: RED._('imis-schema-validate.errors.bad-sample', { message: 'missing' }) });
      return;
    }
    res.json(generateSchema(sample, { draft: ['draft-04', '2020-12'].includes(draft) ? draft : 'draft-07' }));
  });
};
