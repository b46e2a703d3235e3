/**
 * A value made on its first use and kept. The heavy libraries (axios, liquidjs, papaparse, the
 * graph layout, ajv's other drafts, ...) are loaded this way, when a feature first needs them, so
 * that a Node-RED that only loads this package stays close to a plain one in memory (`npm run
 * bench`, startup section):
 *
 *   const papaparse = lazy(() => require('papaparse') as typeof import('papaparse'));
 *   papaparse().unparse(rows);
 *
 * (`import type` for the library's types; a value `import` would load it with the module.)
 */
export function lazy<T>(load: () => T): () => T {
  let loaded: { value: T } | undefined;
  return () => (loaded ??= { value: load() }).value;
}
