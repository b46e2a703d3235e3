import { ExpectedError } from '../core/errors.js';
import { ConditionError, KeyError, WorkflowError, parseTrigger } from '../workflow/index.js';
import type { TriggerType, WorkflowEvent } from '../workflow/index.js';
import { packageRuntime } from './lib/package-runtime.js';
import { NodeConfig } from './lib/migrations.js';
import { registerType } from './lib/red.js';
import type {
  Node,
  NodeDef,
  NodeMessage,
  NodeMessageInFlow,
  NodeModule,
  Send,
  Substitutions,
} from './lib/red.js';
import { throttledStatus } from './lib/status.js';
import { mountWorkflowApi } from './lib/workflow-api.js';
import { eventView, instanceView, workflowHandle, workflowRuntime } from './lib/workflows.js';
import type { WorkflowHandle } from './lib/workflows.js';

interface StateMachineConfig {
  name?: string;
  workflow: string;
  /** A trigger type, or `msg` (msg.trigger). */
  trigger: TriggerType | 'msg';
  /** `output`: messages that fire nothing leave by the third output; `error`: a catchable error. */
  noMatch: 'output' | 'error';
}

const config = new NodeConfig<StateMachineConfig>('imis-state-machine', [
  // v1: first version; config fields as they are.
  (c) => ({ workflow: '', trigger: 'msg', noMatch: 'output', ...c }),
]);

type Command = 'query' | 'reset' | 'delete';
const COMMANDS: readonly string[] = ['query', 'reset', 'delete'] satisfies Command[];

/** Outputs: 0 transition fired, 1 reached a final state, 2 nothing fired, 3 answers to control messages. */
const OUTPUTS = 4;

/** The instance key a control message names (`msg.key`), if any. */
function keyOf(msg: NodeMessage): string | undefined {
  const key = msg.key;
  return (typeof key === 'string' || typeof key === 'number') && String(key) !== '' ? String(key) : undefined;
}

const register: NodeModule = (RED) => {
  function StateMachineNode(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const { workflow, trigger: configuredTrigger, noMatch } = config.read(def);
    const handle: WorkflowHandle | undefined = workflowHandle(RED, workflow);
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

    const fail = (key: string, substitutions: Substitutions = {}) =>
      new ExpectedError(RED._(`imis-state-machine.errors.${key}`, substitutions));

    const sendTo = (send: Send, output: number, msg: NodeMessage) => {
      const msgs: (NodeMessage | null)[] = new Array<NodeMessage | null>(OUTPUTS).fill(null);
      msgs[output] = msg;
      send(msgs);
    };

    // Control messages: query one key, reset it to a state (default the initial one), delete it.
    const control = async (
      wf: WorkflowHandle,
      msg: NodeMessage,
      command: Command,
      key: string,
      send: Send,
    ) => {
      const actor = `flow:${node.id}`;
      if (command === 'query') {
        const instance = await runtime.instance(wf.code, key);
        msg.payload = instance ? instanceView(instance) : null;
        msg.workflow = { code: wf.code, key, command };
      } else if (command === 'reset') {
        const state = typeof msg.state === 'string' ? msg.state : wf.compiled?.initial.code;
        const event = await runtime.reset(wf.code, key, state ?? '', actor);
        msg.payload = instanceView(event.instance);
        msg.workflow = { ...eventView(event), command };
      } else {
        const event = await runtime.remove(wf.code, key, actor);
        msg.payload = instanceView(event.instance);
        msg.workflow = { code: wf.code, key, command, deleted: true };
      }
      sendTo(send, 3, msg);
    };

    const handleInput = async (msg: NodeMessageInFlow, send: Send) => {
      if (!handle) throw fail('no-workflow');
      if (!handle.compiled || !handle.keyOf)
        throw fail('invalid', { workflow: handle.code, problems: handle.errors.join('; ') });
      const command = typeof msg.command === 'string' ? msg.command.toLowerCase() : undefined;
      if (command !== undefined && !COMMANDS.includes(command))
        throw fail('command', { command: String(msg.command) });
      if (command) {
        msg.command = command;
        return control(handle, msg, command as Command, keyOf(msg) ?? handle.keyOf(msg), send);
      }
      const key = handle.keyOf(msg);
      const transition =
        typeof msg.transition === 'string' && msg.transition !== '' ? msg.transition : undefined;
      let trigger: TriggerType | undefined;
      if (configuredTrigger === 'msg') {
        trigger = parseTrigger(msg.trigger);
        if (msg.trigger !== undefined && !trigger) throw fail('trigger', { trigger: String(msg.trigger) });
      } else trigger = parseTrigger(configuredTrigger);
      if (!trigger && !transition) throw fail('no-trigger');
      const ctx = packageRuntime(RED);
      const runId = ctx.runOf(msg) ?? msg._msgid;
      // A run through the state machine is known by the instance's key when it has no key of its own.
      if (key !== undefined && String(key) !== runId) ctx.runs.keyIfNone(runId, String(key));
      const outcome = await runtime.fire(handle.code, { key, trigger, transition, msg, runId });
      if (outcome.fired) {
        msg.workflow = { ...eventView(outcome.event), created: outcome.created };
        sendTo(send, outcome.final ? 1 : 0, msg);
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
      if (noMatch === 'error') throw fail('no-match', { workflow: handle.code, key, reason });
      sendTo(send, 2, msg);
    };

    node.on('input', (msg, send, done) => {
      handleInput(msg, send).then(
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

  registerType(RED, 'imis-state-machine', StateMachineNode, { settings: config.settings() });
  mountWorkflowApi(RED);
};

export = register;
