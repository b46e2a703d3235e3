import assert from 'node:assert/strict';
import {
  conditionProblem,
  normalizeDefinition,
  parseTrigger,
  validateDefinition,
} from '../../src/workflow/index.js';
import type { Issue, WorkflowDefinition } from '../../src/workflow/index.js';
import { orderLifecycle } from './fixtures.js';

const check = (def: WorkflowDefinition, otherCodes: string[] = []) =>
  validateDefinition(def, { otherCodes, checkCondition: conditionProblem });
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error').map((i) => i.message);
const warnings = (issues: Issue[]) => issues.filter((i) => i.severity === 'warning').map((i) => i.message);

describe('Workflow definition rules', () => {
  it('accepts the order lifecycle as it is', () => {
    assert.deepEqual(check(orderLifecycle()), []);
  });

  it('wants exactly one initial state', () => {
    const none = orderLifecycle();
    none.states[0].initial = false;
    assert.deepEqual(errors(check(none)), ['No state is marked initial: mark exactly one']);
    const two = orderLifecycle();
    two.states[3].initial = true;
    assert.deepEqual(errors(check(two)), [
      'Several states are marked initial (NEW, FAILED): mark exactly one',
    ]);
  });

  it('names a transition from or to an unknown state', () => {
    const def = orderLifecycle();
    def.transitions[0].to = 'SUBMITED';
    def.transitions[4].from = 'FAIL';
    assert.deepEqual(errors(check(def)), [
      'Transition SUBMIT goes to unknown state SUBMITED',
      'Transition RETRY starts from unknown state FAIL',
    ]);
  });

  it('wants an on-timeout transition for a timeout, and one that leaves the state', () => {
    const missing = orderLifecycle();
    missing.states[1].onTimeout = '';
    assert.deepEqual(errors(check(missing)), ['State SUBMITTED has a timeout but no on-timeout transition']);
    const unknown = orderLifecycle();
    unknown.states[1].onTimeout = 'EXPIRED';
    assert.deepEqual(errors(check(unknown)), [
      'State SUBMITTED times out to transition EXPIRED, which does not exist',
    ]);
    const elsewhere = orderLifecycle();
    elsewhere.states[1].onTimeout = 'RETRY';
    assert.deepEqual(errors(check(elsewhere)), [
      'State SUBMITTED times out to transition RETRY, which does not leave SUBMITTED',
    ]);
    const loop = orderLifecycle();
    loop.transitions.push({ code: 'WAIT', from: 'SUBMITTED', to: 'SUBMITTED', trigger: 'manual' });
    loop.states[1].onTimeout = 'WAIT';
    assert.deepEqual(errors(check(loop)), [
      'State SUBMITTED times out to transition WAIT, which does not leave SUBMITTED',
    ]);
    const negative = orderLifecycle();
    negative.states[1].timeoutHours = -2;
    assert.deepEqual(errors(check(negative)), [
      'State SUBMITTED has a timeout that is not a positive number of hours',
    ]);
  });

  it('refuses duplicate codes and empty ones, naming them', () => {
    const def = orderLifecycle();
    def.states.push({ code: 'NEW' }, { code: '' });
    def.transitions.push({ code: 'SUBMIT', from: 'NEW', to: 'FAILED', trigger: 'manual' });
    assert.deepEqual(errors(check(def)), [
      'State code NEW is used more than once',
      'State 6 has no code',
      'Transition code SUBMIT is used more than once',
    ]);
    assert.deepEqual(errors(check(orderLifecycle(), ['ORDER'])), ['Another workflow has the code ORDER']);
    assert.deepEqual(errors(check(orderLifecycle({ code: '' }))), ['The workflow has no code']);
  });

  it('refuses transitions out of a final state', () => {
    const def = orderLifecycle();
    def.transitions.push({ code: 'REOPEN', from: 'CONFIRMED', to: 'NEW', trigger: 'manual' });
    assert.deepEqual(errors(check(def)), [
      'Transition REOPEN leaves final state CONFIRMED: no transition fires from a final state',
    ]);
  });

  it('refuses an unknown trigger type and a condition that is not JSONata', () => {
    const def = orderLifecycle();
    def.transitions[0].trigger = 'carrier pigeon' as never;
    def.transitions[1].condition = 'payload.status = ';
    const found = errors(check(def));
    assert.equal(found[0], 'Transition SUBMIT has an unknown trigger type carrier pigeon');
    assert.match(found[1], /^The condition of transition CONFIRM is not valid JSONata: .+/);
  });

  it('wants a key for Per Record instances, none for Per Run', () => {
    assert.deepEqual(errors(check(orderLifecycle({ key: '' }))), [
      'Per Record instances need a key (a template such as {{ input.orderId }}, or a message property)',
    ]);
    assert.deepEqual(check(orderLifecycle({ key: '', instanceMode: 'run' })), []);
  });

  it('warns (without refusing) about states no transition reaches', () => {
    const def = orderLifecycle();
    def.states.push({ code: 'LIMBO' });
    const issues = check(def);
    assert.deepEqual(errors(issues), []);
    assert.deepEqual(warnings(issues), ['State LIMBO cannot be reached from the initial state']);
  });

  it('reads trigger types as people write them, the vendor names included', () => {
    assert.equal(parseTrigger('On Webhook'), 'webhook');
    assert.equal(parseTrigger('ON_SCHEDULED_POLL'), 'poll');
    assert.equal(parseTrigger('On BC Event'), 'event');
    assert.equal(parseTrigger('manual'), 'manual');
    assert.equal(parseTrigger('sometimes'), undefined);
    const def = normalizeDefinition({
      code: ' X ',
      states: [{ code: 'A', initial: true, timeoutHours: '' as never }],
      transitions: [{ code: 'T', from: 'A', to: 'A', trigger: 'On Import' as never }],
    });
    assert.equal(def.code, 'X');
    assert.equal(def.states[0].timeoutHours, null);
    assert.equal(def.transitions[0].trigger, 'import');
    assert.equal(def.transitions[0].enabled, true);
  });
});
