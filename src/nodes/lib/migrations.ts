/**
 * Versioned node config. Each node keeps an ordered list of migrations; a saved config carries
 * `cfgVersion` (absent = 0) and is upgraded step by step to the current version when the node
 * starts, so that flows exported today still load next year. The editor side stamps the current
 * version on save (defaults.cfgVersion).
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
