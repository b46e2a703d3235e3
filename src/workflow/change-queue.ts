import { WorkflowConflict } from '../store/index.js';
import { ExpectedError } from '../core/errors.js';

/** A request the runtime cannot carry out (unknown workflow or state, ...); `code` says which. */
export class WorkflowError extends ExpectedError {
  constructor(
    readonly code: 'not-deployed' | 'unknown-state' | 'no-instance' | 'busy',
    message: string,
  ) {
    super(message);
    this.name = 'WorkflowError';
  }
}

/**
 * The order of changes to instances: within this process, changes of one instance run one after
 * the other in arrival order; a change whose write finds the instance changed meanwhile (another
 * process, a timeout: WorkflowConflict) is tried again from its read, up to `maxAttempts` times.
 */
export class ChangeQueue {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly maxAttempts: number) {}

  /** Runs `work` after every earlier piece of work on the same instance (this process only). */
  serial<T>(code: string, key: string, work: () => Promise<T>): Promise<T> {
    const id = `${code}\u0000${key}`;
    const previous = this.queues.get(id);
    const result = previous ? previous.then(work, work) : work();
    this.queues.set(id, result);
    const settled = () => {
      if (this.queues.get(id) === result) this.queues.delete(id);
    };
    result.then(settled, settled);
    return result;
  }

  /** Runs `work` again while it meets a change made meanwhile; WorkflowError 'busy' after the last try. */
  async retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (!(err instanceof WorkflowConflict)) throw err;
        if (attempt >= this.maxAttempts)
          throw new WorkflowError('busy', `${err.message} ${attempt} times: try again`);
      }
    }
  }
}
