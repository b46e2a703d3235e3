import type { ExposedSetting } from './red.js';

/**
 * Versioned node config. Each node keeps an ordered list of migrations; a saved config carries
 * `cfgVersion` (absent = 0) and is upgraded step by step to the current version when the node
 * starts, so that flows exported today still load next year.
 *
 * The migrations are the one source of truth of a node's config: its current version is their
 * count, and its defaults are what they make of an empty config (the first migration states them;
 * a later one adds the defaults of the fields it adds). The runtime exposes both to the editor
 * through the node type's settings (`<type>CfgVersion`, `<type>Defaults`, read with RED.settings),
 * so the editor stamps the same version and offers the same defaults.
 */
export type Migration = (config: Record<string, unknown>) => Record<string, unknown>;

export function migrate<T>(
  config: Record<string, unknown>,
  migrations: readonly Migration[],
): T & { cfgVersion: number } {
  let current: Record<string, unknown> = { ...config };
  const from = Number(current.cfgVersion) || 0;
  for (let version = from; version < migrations.length; version++) {
    current = { ...migrations[version](current), cfgVersion: version + 1 };
  }
  return current as T & { cfgVersion: number };
}

/** The version and defaults of every NodeConfig made, by node type (for the tests that hold the editor to the runtime). */
export const nodeConfigs = new Map<string, { version: number; defaults: Record<string, unknown> }>();

/** A node type's config: its migrations, and the version and defaults that follow from them. */
export class NodeConfig<T extends object> {
  /** The current version: the number of migrations. */
  readonly version: number;
  /** What the migrations make of an empty config. */
  readonly defaults: T;
  private readonly fallback: Record<string, unknown>;

  /**
   * `type` is the node type; `messageProperties` name the fields that hold a message property
   * (e.g. `outputProp`), which mean their default when left empty.
   */
  constructor(
    readonly type: string,
    readonly migrations: readonly Migration[],
    private readonly messageProperties: readonly (keyof T & string)[] = [],
  ) {
    this.version = migrations.length;
    const { cfgVersion: _version, ...defaults } = migrate<Record<string, unknown>>({}, migrations);
    this.fallback = defaults;
    this.defaults = defaults as T;
    nodeConfigs.set(type, { version: this.version, defaults });
  }

  /**
   * A deployed node's config: migrated to the current version, and each field the migrations give
   * a default read as that default's kind: a number from the text an editor field holds, and the
   * default itself for a value of another kind (e.g. '' in a number field, a flow written by hand).
   */
  read(raw: object): T & { cfgVersion: number } {
    const config = withDefaults(migrate<Record<string, unknown>>({ ...raw }, this.migrations), this.fallback);
    for (const key of this.messageProperties) {
      if (config[key] === '') config[key] = this.fallback[key];
    }
    return config as T & { cfgVersion: number };
  }

  /**
   * The settings registerType exposes to the editor, named by Node-RED's rule (they start with the
   * type's camel-case name): `<name>CfgVersion`, `<name>Defaults`, and `more` as `<name><Key>`.
   */
  settings(more: Record<string, unknown> = {}): Record<string, ExposedSetting> {
    const name = settingsName(this.type);
    const exposed: Record<string, ExposedSetting> = {
      [`${name}CfgVersion`]: { value: this.version, exportable: true },
      [`${name}Defaults`]: { value: this.defaults, exportable: true },
    };
    for (const [key, value] of Object.entries(more)) {
      exposed[`${name}${key[0].toUpperCase()}${key.slice(1)}`] = { value, exportable: true };
    }
    return exposed;
  }
}

/**
 * The prefix Node-RED requires of a node type's settings (its normaliseNodeTypeName):
 * `imis-webhook-in` → `imisWebhookIn`.
 */
export function settingsName(type: string): string {
  const words = type
    .replace(/[^a-zA-Z0-9]/g, ' ')
    .trim()
    .split(/ +/);
  return words
    .map((w, i) => (i === 0 ? w[0].toLowerCase() + w.slice(1) : w[0].toUpperCase() + w.slice(1)))
    .join('');
}

/**
 * `value` with each field `defaults` has read as that default's kind: a number from text (as an
 * editor field holds it), and the default itself for a value of another kind or a missing one.
 * Fields `defaults` does not name are kept as they are.
 */
export function withDefaults<T extends object>(value: unknown, defaults: T): T {
  const out: Record<string, unknown> = value !== null && typeof value === 'object' ? { ...value } : {};
  for (const [key, fallback] of Object.entries(defaults)) out[key] = asKindOf(out[key], fallback);
  return out as T;
}

function asKindOf(value: unknown, fallback: unknown): unknown {
  if (typeof fallback === 'number') {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
  }
  if (typeof fallback === 'boolean' || typeof fallback === 'string') {
    return typeof value === typeof fallback ? value : fallback;
  }
  if (Array.isArray(fallback)) return Array.isArray(value) ? value : fallback;
  if (fallback !== null && typeof fallback === 'object') {
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : fallback;
  }
  return value;
}
