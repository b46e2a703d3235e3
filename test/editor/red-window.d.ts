// What the editor tests use of Node-RED's editor in the browser (`window.RED` inside a
// `page.evaluate` callback), typed as far as they use it and no further. Node-RED's editor API is
// untyped JavaScript (@node-red/editor-client's public/red/red.js); @types/node-red__editor-client
// answers `object` for nodes, so these few members are written here from red.js instead.
//
// The callbacks run in the page, so they can only reach the page's globals: hence a global
// `Window` augmentation rather than an imported helper. It is part of the one TypeScript program
// that also compiles src/, whose Node code never reads `window`.

/** A property of a node type as its definition declares it (`defaults` of RED.nodes.registerType). */
export interface EditorPropertyDef {
  /** The default value. */
  value: unknown;
  /** Answers true, or a message naming what is wrong (Node-RED passes `opt` to ask for one). */
  validate?: (this: EditorNode, value: unknown, opt: object) => boolean | string;
}

/** A node type's definition (RED.nodes.getType). */
export interface EditorNodeDef {
  defaults: Record<string, EditorPropertyDef>;
}

/** A node as the editor holds it: flow or config node, its own properties as the node type has them. */
export interface EditorNode {
  id: string;
  type: string;
  /** The tab holding it (none for a config node). */
  z?: string;
  /** False when one of its properties fails its validator. */
  valid?: boolean;
  /** Its type's definition. */
  _def: EditorNodeDef;
  [property: string]: unknown;
}

export interface EditorRed {
  nodes: {
    /** The node (flow or config) of that id. */
    node(id: string): EditorNode | undefined;
    /** The flow nodes with these properties. */
    filterNodes(filter: { type?: string; z?: string }): EditorNode[];
    /** Calls `each` for every config node; stops when it answers false. */
    eachConfig(each: (node: EditorNode) => boolean | void): void;
    /** The registered definition of a node type. */
    getType(type: string): EditorNodeDef | undefined;
    remove(id: string): unknown;
    /** Whether there are changes to deploy. */
    dirty(): boolean;
    /** The revision of the loaded flows; null until they have loaded. */
    version(): string | null;
  };
  workspaces: {
    /** The id of the tab shown. */
    active(): string;
    show(id: string): void;
  };
  editor: {
    /** Opens the edit dialog of a flow node. */
    edit(node: EditorNode): void;
    /** Opens the edit dialog of config node `id` of `type` (`name` is the property it is picked for). */
    editConfig(name: string, type: string, id: string): void;
  };
  sidebar: {
    /** Shows the sidebar tab `id` (e.g. debug, imis-runs). */
    show(id: string): void;
  };
  /** The runtime's settings the editor received (GET /settings). */
  settings: Record<string, unknown>;
}

declare global {
  interface Window {
    RED: EditorRed;
    /** jQuery, as far as used: the number of its Ajax requests in flight. */
    $: { active: number };
  }
}
