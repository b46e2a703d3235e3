import type { RunRecord } from './tracker.js';

/** The message a failed run gives: what an alert needs to say, without the run's input (member data). */
export function failureMessage(run: RunRecord) {
  const step = run.steps.find((s) => s.outcome === 'failed');
  return {
    topic: `run failed: ${run.trigger.name || run.trigger.type}`,
    payload: {
      runId: run.id,
      flowId: run.flowId,
      trigger: run.trigger,
      step: step ? { id: step.id, type: step.type, name: step.name } : undefined,
      error: run.error ?? step?.error,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      rerunOf: run.rerunOf,
      businessKey: run.businessKey,
      values: run.values,
    },
  };
}
