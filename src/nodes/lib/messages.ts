import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Red, Substitutions } from './red.js';

/**
 * Node-RED registers each node file's message catalog under the namespace `<package>/<file>` and
 * makes a module's `RED._` look bare keys up in that module's own catalog only; a key of another
 * file's catalog must name its namespace (as core nodes write `node-red:common.label.name`).
 * The package name is read from package.json (this file is dist/src/nodes/lib/messages.js).
 */
export const PACKAGE_NAME: string = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8'),
).name;

/** The catalog namespace of one of the package's node files, e.g. `imis-server`. */
export function catalogNamespace(file: string): string {
  return `${PACKAGE_NAME}/${file}`;
}

/** A message of the imis-server catalog (shared by every node that uses a server), from any module. */
export function serverMessage(RED: Red, key: string, substitutions?: Substitutions): string {
  return RED._(`${catalogNamespace('imis-server')}:imis-server.${key}`, substitutions);
}

/** A message of the imis-runs catalog (the runs sidebar plugin's: store and run history), from any module. */
export function runsMessage(RED: Red, key: string, substitutions?: Substitutions): string {
  return RED._(`${catalogNamespace('imis-runs')}:imis-runs.${key}`, substitutions);
}

/**
 * A message of the endpoint protections, shared by Webhook in and change notification in: the
 * imis-editor catalog (the shared editor code's, which holds their Protection section), from any module.
 */
export function protectMessage(RED: Red, key: string, substitutions?: Substitutions): string {
  return RED._(`${catalogNamespace('imis-editor')}:imis-editor.protect.${key}`, substitutions);
}

/**
 * A message of a trigger's run business key and values, shared by every trigger: the imis-editor
 * catalog (which holds their dialog part), from any module.
 */
export function runLabelsMessage(RED: Red, key: string, substitutions?: Substitutions): string {
  return RED._(`${catalogNamespace('imis-editor')}:imis-editor.runLabels.${key}`, substitutions);
}
