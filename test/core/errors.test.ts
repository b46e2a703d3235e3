import assert from 'node:assert/strict';
import { ExpectedError, InputError } from '../../src/core/errors.js';
import { parseSchedule } from '../../src/core/cron.js';
import { DeltaInputError } from '../../src/core/delta.js';
import { eventTypeFilter } from '../../src/core/event-grid.js';
import { AllowlistError } from '../../src/core/protect/allowlist.js';
import { ProtectionConfigError } from '../../src/core/protect/index.js';
import { compileSchema, SchemaCompileError, SchemaValidationError } from '../../src/core/schema.js';
import { compileTemplate } from '../../src/core/templates.js';
import { ApiCallError } from '../../src/imis/api.js';
import { ImisError, errorFromResponse, isTransient } from '../../src/imis/errors.js';
import { decodeEntity, toWireValue } from '../../src/imis/generic-entity.js';
import { TransportFailure } from '../../src/imis/transport.js';
import { NoServerSettingsError } from '../../src/nodes/lib/server-settings.js';
import {
  ConditionError,
  KeyError,
  WorkflowDefinitionError,
  WorkflowError,
  WorkflowFileError,
} from '../../src/workflow/index.js';

/** What Node-RED shows of an error: its log line and a Catch node's msg.error.message use String(err). */
const shown = (err: unknown) => String(err);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

describe('Expected errors read as their message', function () {
  it('an iMIS refusal reads as iMIS said it, and stays an ImisError with its status', function () {
    const err = errorFromResponse('POST', '/api/Activity', 400, {
      Errors: {
        $type: 'System.Collections.Generic.List`1',
        $values: [{ Message: 'Party 99999 does not exist' }],
      },
    });
    assert.equal(shown(err), 'iMIS rejected POST /api/Activity: Party 99999 does not exist');
    assert.equal(`${err}`, err.message);
    assert.ok(err instanceof ImisError);
    assert.ok(err instanceof ExpectedError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ImisError');
    assert.equal(err.kind, 'rejected');
    assert.equal(err.status, 400);
    assert.deepEqual(err.imisMessages, ['Party 99999 does not exist']);
    assert.equal(isTransient(err), false);
  });

  it('iMIS out of reach reads as its message and is still transient', function () {
    const err = new ImisError('network', 'iMIS could not be reached at http://127.0.0.1:1 (ECONNREFUSED)', {
      code: 'ECONNREFUSED',
    });
    assert.equal(shown(err), 'iMIS could not be reached at http://127.0.0.1:1 (ECONNREFUSED)');
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(isTransient(err), true);
    const failure = new TransportFailure(true, false, 'ETIMEDOUT', new Error('timeout of 100ms exceeded'));
    assert.equal(shown(failure), 'timeout of 100ms exceeded');
    assert.equal(isTransient(failure), true);
  });

  it('a value that is not a date is an InputError naming the property, not a TypeError', function () {
    const err = thrown(() => toWireValue('not a date', 'Date', { name: 'ABC_EventAttendance.CheckInTime' }));
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.ok(!(err instanceof TypeError));
    assert.equal(err.name, 'InputError');
    assert.equal(
      shown(err),
      'ABC_EventAttendance.CheckInTime: "not a date" is not a date (write it as 2026-05-27 or 2026-05-27T09:15:00)',
    );
  });

  it('every error a node reports for a template, a value, a setting or a workflow reads as its message', function () {
    const errors: unknown[] = [
      thrown(() => compileTemplate('{{ input.x ', 'Description')),
      thrown(() => parseSchedule('not a schedule')),
      thrown(() => eventTypeFilter(['no dot'])),
      thrown(() => compileSchema('{ not json')),
      thrown(() => toWireValue('two', 'Decimal', { name: 'Quantity' })),
      new SchemaValidationError([{ path: '/memberId', message: 'must be string', keyword: 'type' }]),
      new SchemaCompileError('The schema is not valid'),
      new DeltaInputError('The rows must be an array'),
      new AllowlistError('300.1.1.1'),
      new ProtectionConfigError('The shared secret is empty'),
      new ApiCallError('The path must start with /api/'),
      new NoServerSettingsError('Give a base URL'),
      new WorkflowError('busy', 'Instance 1 of W is busy'),
      new WorkflowDefinitionError('W', []),
      new WorkflowFileError('Not a workflow file'),
      new KeyError('W', 'msg.key'),
      new ConditionError('T1', 'x is undefined'),
    ];
    for (const err of errors) {
      assert.ok(err instanceof ExpectedError, `not an ExpectedError: ${String(err)}`);
      assert.ok(err.message.length > 0);
      assert.equal(shown(err), err.message, `${err.name} shows its class name`);
      assert.doesNotMatch(shown(err), /^\w*Error: /);
    }
  });

  it('a bug keeps its class name in front: an answer iMIS could not have sent', function () {
    const err = thrown(() => decodeEntity('nope'));
    assert.ok(err instanceof TypeError);
    assert.ok(!(err instanceof ExpectedError));
    assert.match(shown(err), /^TypeError: Expected an iMIS entity object/);
  });
});
