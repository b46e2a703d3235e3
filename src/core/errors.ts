/**
 * The errors a user meets and can act on, as opposed to bugs: iMIS refused or could not be reached,
 * a value that cannot be used, a template or a configuration that cannot work. Each reads as its
 * message alone. Node-RED shows `String(err)` in its log and as a Catch node's `msg.error.message`
 * (node_modules/@node-red/runtime/lib/flows/Flow.js `handleError`), which for any other Error
 * starts with its class name ("TypeError: …"). The classes themselves stay, with their fields, for
 * `instanceof` checks; a bug (TypeError, RangeError, …) keeps its class name in front.
 */
export class ExpectedError extends Error {
  override toString(): string {
    return this.message;
  }
}

/** A value (from the message or the node's fields) that cannot be used as given; the message names it. */
export class InputError extends ExpectedError {
  override readonly name = 'InputError';
}
