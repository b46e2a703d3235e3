// Node defaults and config versions as the runtime states them (registerType settings).

/** A node property's editor definition: what only the editor knows (validate, required, type). */
export interface FieldDef {
  value?: unknown;
  required?: boolean;
  type?: string;
  validate?: (this: never, value: never, opt?: never) => boolean | string;
}

export type FieldDefs = Record<string, FieldDef>;

/**
 * A setting the runtime exposes for node type `type` (registerType settings, named by Node-RED's
 * rule: the type in camel case, then `key`), e.g. imisWebhookInCfgVersion.
 */
export function setting<T = unknown>(type: string, key: string): T | undefined {
  const name = type.replace(/[^a-zA-Z0-9]+(.)/g, (_m, c: string) => c.toUpperCase());
  const settings = RED.settings as unknown as Record<string, unknown>;
  return settings[name.charAt(0).toLowerCase() + name.slice(1) + key] as T | undefined;
}

/**
 * A node type's `defaults`: each field's value is the runtime's default (what its config
 * migrations make of an empty config, src/nodes/lib/migrations.ts), and `cfgVersion` the
 * runtime's config version, so the two are stated once. `fields` adds what only the editor
 * knows (validate, required, type), and the value of fields the runtime has no default for.
 */
export function nodeDefaults(type: string, fields: FieldDefs): FieldDefs {
  const values = setting<Record<string, unknown>>(type, 'Defaults') ?? {};
  const defaults: FieldDefs = {};
  for (const [key, field] of Object.entries(fields)) {
    defaults[key] = { ...field };
    if (Object.prototype.hasOwnProperty.call(values, key)) defaults[key].value = values[key];
  }
  defaults.cfgVersion = { value: setting(type, 'CfgVersion') };
  return defaults;
}

/** The answer's error text of a failed admin request. */
export function errorText(xhr: JQuery.jqXHR): string {
  const body = xhr.responseJSON as { error?: string } | undefined;
  return body?.error || xhr.statusText;
}

/** POSTs `data` as JSON to the admin route `url`. */
export function postJson<T = unknown>(url: string, data?: unknown): JQuery.jqXHR<T> {
  return $.ajax({ url, type: 'POST', contentType: 'application/json', data: JSON.stringify(data ?? {}) });
}

/** A text of the runs catalog (shared by the nodes: run history and failure policies). */
export function runsText(key: string, subs?: Record<string, unknown>): string {
  return RED._('@imisflow/node-red-imis/imis-runs:imis-runs.' + key, subs as never);
}

/**
 * A message of the imis-editor catalog (imis-editor.json), e.g. t('protect.label.section').
 * Node-RED names a plugin's catalog by the plugin's node set, which it gives the plugin as `module`.
 */
export function t(key: string, values?: Record<string, unknown>): string {
  return RED._(editorNamespace() + ':imis-editor.' + key, values as never);
}

export function editorNamespace(): string {
  const plugins = RED.plugins as unknown as { getPlugin(id: string): { module: string } };
  return plugins.getPlugin('imis-editor').module;
}
