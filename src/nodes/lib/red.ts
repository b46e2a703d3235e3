/**
 * The Node-RED boundary: what this package uses of Node-RED's runtime API, typed once. The types
 * come from @types/node-red; where they lack something Node-RED really does, this module says so
 * (each gap commented) and is the only place that reads it. The node modules import from here only.
 */
import type { Express, Request, RequestHandler, Response } from 'express';
import type {
  Node,
  NodeAPI,
  NodeAPISettingsWithData,
  NodeCredential,
  NodeDef,
  NodeInitializer,
  NodeMessage,
  NodeMessageInFlow,
  NodeStatus,
} from 'node-red';
import type { PublishedStore } from '../../core/export.js';
import type { HookOptions, HookRejection } from '../../core/ihook.js';
import type { Protection } from '../../core/protect/index.js';
import type { Violation } from '../../core/schema.js';
import type { ImisClient } from '../../imis/client.js';
import type { RunsSettings, StoreSettings, WorkflowsSettings } from '../../store/index.js';
import type { ServerConfig } from './server-settings.js';

export type {
  Express,
  NodeDef,
  NodeMessage,
  NodeMessageInFlow,
  NodeStatus,
  Node,
  Request,
  Response,
  RequestHandler,
};

/** The runtime settings this package reads: Node-RED's own (settings.js) and ours. */
export interface ImisSettings extends NodeAPISettingsWithData {
  /** Folder of the embedded store (default `<userDir>/imis-data`). */
  imisDataDir?: string;
  /** The SQLite file (default `<imisDataDir>/imis.db`). */
  imisStoreFile?: string;
  /** More request headers never stored (besides Authorization, cookies and signatures). */
  imisRedactHeaders?: unknown;
  /** The `imis` section: store engine, run retention, workflow instance retention. */
  imis?: { store?: StoreSettings; runs?: RunsSettings; workflows?: WorkflowsSettings };
}

/** The API Node-RED hands to each node module (`RED`). */
export type Red = NodeAPI<ImisSettings>;

/** A node module's export, called once by Node-RED with its API. */
export type NodeModule = NodeInitializer<ImisSettings>;

/** The `__name__` values of a catalog message (RED._). */
export type Substitutions = Record<string, string | number>;

/** A setting a node type exposes to the editor (RED.settings), as registerType takes it. */
export interface ExposedSetting {
  value: unknown;
  exportable: true;
}

/**
 * Registers a node type whose constructor's `this` is the node's own interface (what it adds to
 * Node, e.g. `handleRequest`). Gap: registerType infers the node type from the credentials option,
 * not from the constructor, so it is given here.
 */
export function registerType<TNode extends Node<object>>(
  RED: Red,
  type: string,
  constructor: (this: TNode, def: NodeDef) => void,
  options: {
    credentials?: { [K in keyof TNode['credentials']]-?: NodeCredential };
    settings?: Record<string, ExposedSetting>;
  } = {},
): void {
  RED.nodes.registerType<TNode, NodeDef, Record<string, unknown>, TNode['credentials']>(
    type,
    constructor,
    options,
  );
}

/** What a node's input handler gets besides the message. */
export type Send = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]) => void;
export type Done = (err?: Error) => void;

/**
 * The node `id`, or null when none is deployed under it. Gap: @types/node-red types
 * `RED.nodes.getNode` as always returning a node; Node-RED returns null for an unknown id.
 */
export function findNode(RED: Red, id: string | undefined): Node | null {
  if (!id) return null;
  const node: Node | null | undefined = RED.nodes.getNode(id);
  return node ?? null;
}

/**
 * The ids of the nodes wired to output `port` of `node`. Gap: Node-RED's nodes carry `wires`
 * (one list of node ids per output), absent from @types/node-red.
 */
export function wiredTo(node: Node, port = 0): string[] {
  if (!('wires' in node) || !Array.isArray(node.wires)) return [];
  const ids: unknown = node.wires[port];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

/**
 * How many of a node's input handlers take `done` (0: its messages complete once handed over).
 * Gap: the runtime's own count, `_expectedDoneCount`, is internal and absent from @types/node-red.
 */
export function expectedDoneCount(node: Node | undefined): number | undefined {
  if (!node || !('_expectedDoneCount' in node)) return undefined;
  return typeof node._expectedDoneCount === 'number' ? node._expectedDoneCount : undefined;
}

/** The message-routing events the run tracker listens to (Node-RED 2+ hooks). */
export interface RoutingEvents {
  /**
   * `preDeliver`: a message is about to reach `destination.node`. Gap: @types/node-red types
   * `destination.node` of this event as undefined; the runtime has set it by now.
   */
  preDeliver: {
    msg: NodeMessage;
    source?: { id: string; node?: Node };
    destination: { id: string; node?: Node };
  };
  /** `onComplete`: `node` completed the message (done() called), with `error` if it failed. */
  onComplete: { msg: NodeMessage; node: { id: string }; error?: unknown };
  /** `onReceive`: `destination.node` is about to receive a message (a Catch node too, from node.error). */
  onReceive: { msg: NodeMessage; destination: { id: string; node?: Node } };
}

/**
 * Adds a labelled hook handler (`<event>.<label>`), typed by event. Gap: @types/node-red types each
 * hook's payload, but not the labelled names (`preDeliver.imisRuns`) Node-RED accepts for them.
 */
export function addHook<E extends keyof RoutingEvents>(
  RED: Red,
  event: E,
  label: string,
  handler: (event: RoutingEvents[E]) => void,
): void {
  // The handler itself, not a wrapper: Node-RED calls it for every message.
  RED.hooks.add(`${event}.${label}`, handler as Parameters<Red['hooks']['add']>[1]);
}

/**
 * Node-RED's `httpNodeMiddleware`, as a list. Gap: @types/node-red types it as one function;
 * Node-RED (HTTP In) also takes an array of them.
 */
export function httpNodeMiddleware(RED: Red): RequestHandler[] {
  const setting: unknown = RED.settings.httpNodeMiddleware;
  const list: unknown[] = Array.isArray(setting) ? setting : [setting];
  return list.filter((m): m is RequestHandler => typeof m === 'function');
}

/**
 * The user name of an admin request (undefined without adminAuth). Gap: Node-RED's admin auth sets
 * `req.user`, which @types/express does not declare.
 */
export function adminUser(req: Request): string | undefined {
  const user: unknown = 'user' in req ? req.user : undefined;
  const name = user !== null && typeof user === 'object' && 'username' in user ? user.username : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** The `imis-server` configuration node: what every node that talks to iMIS reads of it. */
export interface ImisServerNode extends Node<{ username?: string; password?: string }> {
  /** Its settings, migrated (credentials apart). */
  config: ServerConfig;
  /** The iMIS client for these settings (one per config node, shared by the nodes using it). */
  client: ImisClient;
  /** Today's date (YYYY-MM-DD) in the server's time zone. */
  today(): string;
}

/**
 * The Express app at the top of the mount chain of `app` (Node-RED mounts RED.httpNode in its own
 * app, or an embedding app mounts Node-RED's). Gap: Express sets `parent` on a mounted app, which
 * @types/express does not declare.
 */
export function outermostApp(app: Express): Express {
  let top = app;
  while ('parent' in top && isExpressApp(top.parent)) top = top.parent;
  return top;
}

function isExpressApp(value: unknown): value is Express {
  return typeof value === 'function' && 'use' in value && typeof value.use === 'function';
}

/** The imis-server config node `id`, or null when none of that type is deployed under it. */
export function serverNode(RED: Red, id: string | undefined): ImisServerNode | null {
  const node = findNode(RED, id);
  return node && node.type === 'imis-server' && 'client' in node ? (node as ImisServerNode) : null;
}

/**
 * A node that can judge a payload before a Webhook in wired to it answers its caller (Schema
 * Validate in "error" mode): the violations, none when it passes.
 */
export interface PrevalidatingNode extends Node {
  prevalidate(msg: NodeMessage): Violation[];
}

export function isPrevalidator(node: Node | null): node is PrevalidatingNode {
  return node !== null && 'prevalidate' in node && typeof node.prevalidate === 'function';
}

/** A node with a secret URL `<base><token>`; the token is its `token` credential. */
export interface SecretEndpointNode extends Node<{ token?: string }> {
  /** `<base><token>`, below httpNodeRoot. */
  urlPath: string;
}

/**
 * Webhook in and change notification in: a POST to the node's URL is handled by the node, after
 * its optional protections (src/core/protect), whose secrets are credentials too.
 */
export interface HookEndpointNode extends SecretEndpointNode {
  credentials: { token?: string; headerSecret?: string; signatureSecret?: string };
  handleRequest(req: Request, res: Response): Promise<void>;
  /**
   * Answers a call it rejects before any run starts, once recorded: counted in its status, listed
   * with the rejected calls, logged (src/nodes/lib/rejections.ts).
   */
  reject(req: Request, res: Response, rejection: HookRejection, options?: HookOptions): void;
  /** Its protections, once its settings could be read (absent when they cannot work). */
  protection?: Protection;
}

/** Export Data to URL: a GET of the node's URL is answered from its published data. */
export interface ExportEndpointNode extends SecretEndpointNode {
  store: PublishedStore;
}

/** Insert Activity and Insert Panel Record: whether their inserts carry a de-duplication key. */
export interface InsertNode extends Node {
  deduplicated: boolean;
}

/** The Manual trigger: starts a run with its configured input, or with input given by the caller. */
export interface ManualTriggerNode extends Node {
  /** Commits the input and starts the run; resolves with the run id. Throws for invalid JSON input. */
  trigger(input?: unknown): Promise<string>;
}

export function isManualTrigger(node: Node | null): node is ManualTriggerNode {
  return node !== null && node.type === 'imis-manual' && 'trigger' in node;
}

/** Which node each type with a secret URL is (the registry of secret endpoints is keyed by type). */
export interface SecretEndpointTypes {
  'imis-webhook-in': HookEndpointNode;
  'imis-change-in': HookEndpointNode;
  'imis-export': ExportEndpointNode;
}

/** The types whose URL takes POSTs handled by the node (`handleRequest`). */
export type HookEndpointType = 'imis-webhook-in' | 'imis-change-in';

/** The deployed node `id` of hook endpoint type `type` (its URL registered), or null. */
export function hookEndpointNode(
  RED: Red,
  id: string | undefined,
  type: HookEndpointType,
): HookEndpointNode | null {
  const node = findNode(RED, id);
  return node && node.type === type && 'handleRequest' in node && 'urlPath' in node
    ? (node as HookEndpointNode)
    : null;
}
