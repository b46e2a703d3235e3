import { ConditionError, KeyError, WorkflowError, parseTrigger } from '../workflow/index.js';
import type { TriggerType, WorkflowEvent } from '../workflow/index.js';
import { migrate } from './lib/migrations.js';
import { throttledStatus } from './lib/status.js';
import { mountWorkflowApi } from './lib/workflow-api.js';
import { eventView, instanceView, workflowRuntime } from './lib/workflows.js';
import type { WorkflowHandle } from './lib/workflows.js';

interface StateMachineConfig {
  name?: string;
  workflow: string;
  /** A trigger type, or `msg` (msg.trigger). */
  trigger: TriggerType | 'msg';
  /** `output`: messages that fire nothing leave by the third output; `error`: a catchable error. */
  noMatch: 'output' | 'error';
}

const migrations = [
  (c: Record<string, unknown>) => ({ workflow: '', trigger: 'msg', noMatch: 'output', ...c }),
];

const COMMANDS = new Set(['query', 'reset', 'delete']);

/** Outputs: 0 transition fired, 1 reached a final state, 2 nothing fired, 3 answers to control messages. */
const OUTPUTS = 4;

export = function register(RED: any): void {
  function StateMachineNode(this: any, raw: any) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate<StateMachineConfig>(raw, migrations);
    const workflowNode = RED.nodes.getNode(config.workflow);
    const handle: WorkflowHandle | undefined = workflowNode?.workflow;
    const runtime = workflowRuntime(RED);
    const code = handle?.code;

    const status = throttledStatus(() => {
      if (!handle)
        return node.status({
          fill: 'red',
          shape: 'ring',
          text: RED._('imis-state-machine.status.no-workflow'),
        });
      if (!handle.compiled)
        return node.status({ fill: 'red', shape: 'ring', text: RED._('imis-state-machine.status.invalid') });
      const count = runtime.activeInstances(handle.code);
      const text = RED._('imis-state-machine.status.active', { count });
      if (!handle.compiled.enabled)
        return node.status({
          fill: 'grey',
          shape: 'ring',
          text: RED._('imis-state-machine.status.disabled', { text }),
        });
      node.status({ fill: 'green', shape: 'dot', text });
    });
    status.now();
    const onChange = (event: WorkflowEvent) => {
      if (event.workflow === code) status.soon();
    };
    const onCounts = (changed: string) => {
      if (changed === code) status.soon();
    };
    runtime.on('change', onChange);
    runtime.on('counts', onCounts);

    const fail = (key: string, substitutions: Record<string, unknown> = {}) =>
      new Error(RED._(`imis-state-machine.errors.${key}`, substitutions));

    const send = (send: (msgs: unknown[]) => void, output: number, msg: unknown) => {
      const msgs: unknown[] = new Array(OUTPUTS).fill(null);
      msgs[output] = msg;
      send(msgs);
    };

    const control = async (msg: any, key: string, sendMsgs: (msgs: unknown[]) => void) => {
      const command = msg.command as string;
      const actor = `flow:${node.id}`;
      if (command === 'query') {
        const instance = await runtime.instance(handle!.code, key);
        msg.payload = instance ? instanceView(instance) : null;
        msg.workflow = { code: handle!.code, key, command };
      } else if (command === 'reset') {
        const state = typeof msg.state === 'string' ? msg.state : handle!.compiled!.initial.code;
        const event = await runtime.reset(handle!.code, key, state, actor);
        msg.payload = instanceView(event.instance);
        msg.workflow = { ...eventView(event), command };
      } else {
        const event = await runtime.remove(handle!.code, key, actor);
        msg.payload = instanceView(event.instance);
        msg.workflow = { code: handle!.code, key, command, deleted: true };
      }
      send(sendMsgs, 3, msg);
    };

    const handleInput = async (msg: any, sendMsgs: (msgs: unknown[]) => void) => {
      if (!handle) throw fail('no-workflow');
      if (!handle.compiled || !handle.keyOf)
        throw fail('invalid', { workflow: handle.code, problems: handle.errors.join('; ') });
      const command = typeof msg.command === 'string' ? msg.command.toLowerCase() : undefined;
      if (command !== undefined && !COMMANDS.has(command)) throw fail('command', { command: msg.command });
      const key =
        command && (typeof msg.key === 'string' || typeof msg.key === 'number') && String(msg.key) !== ''
          ? String(msg.key)
          : handle.keyOf(msg);
      if (command) {
        msg.command = command;
        return control(msg, key, sendMsgs);
      }
      const transition =
        typeof msg.transition === 'string' && msg.transition !== '' ? msg.transition : undefined;
      let trigger: TriggerType | undefined;
      if (config.trigger === 'msg') {
        trigger = parseTrigger(msg.trigger);
        if (msg.trigger !== undefined && !trigger) throw fail('trigger', { trigger: String(msg.trigger) });
      } else trigger = parseTrigger(config.trigger);
      if (!trigger && !transition) throw fail('no-trigger');
      const runId = msg.imis?.runId ?? msg._msgid;
      const outcome = await runtime.fire(handle.code, { key, trigger, transition, msg, runId });
      if (outcome.fired) {
        msg.workflow = eventView(outcome.event);
        msg.workflow.created = outcome.created;
        send(sendMsgs, outcome.final ? 1 : 0, msg);
        return;
      }
      const reason = RED._(`imis-state-machine.reasons.${outcome.reason}`, {
        state: outcome.instance.state,
        trigger: trigger ?? '',
        transition: transition ?? '',
      });
      msg.workflow = {
        code: handle.code,
        key,
        matched: false,
        reason: outcome.reason,
        message: reason,
        created: outcome.created,
        trigger,
        transition,
        instance: instanceView(outcome.instance),
      };
      if (config.noMatch === 'error') throw fail('no-match', { workflow: handle.code, key, reason });
      send(sendMsgs, 2, msg);
    };

    node.on('input', (msg: any, sendMsgs: (msgs: unknown[]) => void, done: (err?: Error) => void) => {
      handleInput(msg, sendMsgs).then(
        () => done(),
        (err: Error) => {
          if (err instanceof WorkflowError)
            return done(fail(`runtime.${err.code}`, { message: err.message }));
          if (err instanceof KeyError)
            return done(fail('no-key', { workflow: err.workflow, source: err.source }));
          if (err instanceof ConditionError)
            return done(fail('condition', { transition: err.transition, detail: err.detail }));
          done(err);
        },
      );
    });

    node.on('close', () => {
      status.cancel();
      runtime.off('change', onChange);
      runtime.off('counts', onCounts);
    });
  }

  RED.nodes.registerType('imis-state-machine', StateMachineNode);
  mountWorkflowApi(RED);
};
