/**
 * node-red-node-test-helper ships no types: what the tests use of it (its index.js), with the
 * supertest request of `request()` reduced to the calls the tests make.
 */
declare module 'node-red-node-test-helper' {
  import type { EventEmitter } from 'node:events';
  import type { Express, NextFunction, Request, Response } from 'express';
  import type { SinonSpy } from 'sinon';

  /** The Node.prototype methods the helper spies on (each call also emits `call:<method>` on the node). */
  export type SpiedMethod = 'log' | 'status' | 'warn' | 'error' | 'debug' | 'trace' | 'send';

  /** A node of the running flows. */
  export interface TestNode extends EventEmitter {
    id: string;
    type: string;
    z?: string;
    name?: string;
    wires: string[][];
    /** Delivers `msg` to the node's input handlers, as a wire would. */
    receive(msg?: object): void;
    log: SinonSpy;
    status: SinonSpy;
    warn: SinonSpy;
    error: SinonSpy;
    debug: SinonSpy;
    trace: SinonSpy;
    send: SinonSpy;
    [field: string]: unknown;
  }

  /** A supertest response, its parsed JSON body read as `B`. */
  export interface TestResponse<B = unknown> {
    status: number;
    /** The parsed JSON (or form) body; `{}` when there is none. */
    body: B;
    text: string;
    type: string;
    headers: Record<string, string>;
  }

  /** A supertest request: chain, then await. */
  export interface TestRequest<B = unknown> extends Promise<TestResponse<B>> {
    set(field: string, value: string): this;
    set(fields: Record<string, string>): this;
    send(body?: string | object): this;
    query(query: string | Record<string, unknown>): this;
    expect(status: number): this;
  }

  /**
   * supertest bound to the helper's admin app. `B` is what the caller expects the route to answer
   * (the response body is read as it, unchecked); `unknown` unless told.
   */
  export interface TestAgent {
    get<B = unknown>(url: string): TestRequest<B>;
    post<B = unknown>(url: string): TestRequest<B>;
    put<B = unknown>(url: string): TestRequest<B>;
    patch<B = unknown>(url: string): TestRequest<B>;
    delete<B = unknown>(url: string): TestRequest<B>;
    head<B = unknown>(url: string): TestRequest<B>;
    options<B = unknown>(url: string): TestRequest<B>;
  }

  /** The spy on RED.log.log, with the level numbers of RED.log. */
  export type LogSpy = SinonSpy &
    Record<'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE' | 'METRIC', number>;

  export interface NodeTestHelper {
    init(runtimePath: string, userSettings?: Record<string, unknown>): void;
    /** Merges `userSettings` into RED.settings (when given); the settings. */
    settings(userSettings?: Record<string, unknown>): Record<string, unknown>;
    load(
      testNode: ((RED: never) => unknown) | ((RED: never) => unknown)[],
      testFlow: object[],
      testCredentials?: Record<string, object>,
    ): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    setFlows(
      testFlow: object[],
      type?: 'full' | 'flows' | 'nodes',
      testCredentials?: Record<string, object>,
    ): Promise<void>;
    request(): TestAgent;
    startServer(cb?: (err?: Error) => void): Promise<void>;
    stopServer(cb?: (err?: Error) => void): Promise<void>;
    url(): string;
    log(): LogSpy;
    _events: EventEmitter;
    _app: Express;
    _httpAdmin: (req: Request, res: Response, next: NextFunction) => void;
    _redNodes: { getFlows(): unknown };
    _NodePrototype: Record<SpiedMethod, SinonSpy>;
  }

  const helper: NodeTestHelper;
  export default helper;
}
