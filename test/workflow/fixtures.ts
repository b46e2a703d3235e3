import type { WorkflowDefinition } from '../../src/workflow/index.js';

/** The order lifecycle of the example flow: NEW → SUBMITTED → CONFIRMED / FAILED, retry by hand. */
export function orderLifecycle(over: Partial<WorkflowDefinition> = {}): WorkflowDefinition {
  return {
    code: 'ORDER',
    description: 'Order lifecycle',
    enabled: true,
    instanceMode: 'record',
    keyType: 'template',
    key: '{{ input.orderId }}',
    states: [
      { code: 'NEW', description: 'Received', initial: true },
      { code: 'SUBMITTED', description: 'Sent to fulfilment', timeoutHours: 48, onTimeout: 'EXPIRE' },
      { code: 'CONFIRMED', description: 'Confirmed', final: true },
      { code: 'FAILED', description: 'Failed' },
    ],
    transitions: [
      { code: 'SUBMIT', from: 'NEW', to: 'SUBMITTED', trigger: 'webhook' },
      {
        code: 'CONFIRM',
        from: 'SUBMITTED',
        to: 'CONFIRMED',
        trigger: 'poll',
        condition: 'payload.status = "Confirmed"',
      },
      {
        code: 'REJECT',
        from: 'SUBMITTED',
        to: 'FAILED',
        trigger: 'poll',
        condition: 'payload.status = "Rejected"',
      },
      {
        code: 'EXPIRE',
        from: 'SUBMITTED',
        to: 'FAILED',
        trigger: 'manual',
        description: 'No answer in 48 h',
      },
      { code: 'RETRY', from: 'FAILED', to: 'SUBMITTED', trigger: 'manual' },
    ],
    ...over,
  };
}

export const HOUR = 60 * 60 * 1000;
