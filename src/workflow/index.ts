export * from './definition.js';
export * from './validate.js';
export { CompiledWorkflow, WorkflowDefinitionError } from './machine.js';
export type { NoMatchReason, SelectRequest, Selection } from './machine.js';
export { ConditionError, conditionProblem } from './conditions.js';
export { KeyError, keyResolver } from './keys.js';
export type { KeyOf } from './keys.js';
export { WorkflowError } from './change-queue.js';
export { WorkflowRuntime } from './runtime.js';
export type { SyncReport } from './definition-sync.js';
export type {
  EventHandler,
  FireRequest,
  Outcome,
  RuntimeOptions,
  WorkflowEvent,
  WorkflowStore,
} from './runtime.js';
export { DueScheduler } from './scheduler.js';
export { FORMAT, FORMAT_VERSION, WorkflowFileError, exportWorkflow, importWorkflow } from './format.js';
export type { WorkflowFile } from './format.js';
export { layoutWorkflow } from './layout.js';
export type { WorkflowLayout } from './layout.js';
