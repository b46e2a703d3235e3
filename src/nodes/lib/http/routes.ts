import type { ErrorRequestHandler, Express } from 'express';
import type { RequestHandler } from '../red.js';

/*
 * The package's routes on Node-RED's Express apps (RED.httpNode, RED.httpAdmin): mounted once per
 * app, as nodes come and go on each deploy while the route stays and dispatches by token. Which
 * routes an app holds is a fact about that app, so it is kept beside it (keyed by the app, gone
 * with it), not in the package runtime: a new package runtime on the same app must not mount twice.
 */

/** Express apps on which a route was already mounted, and the routes (`method path`, `use name`). */
const mounted = new WeakMap<object, Set<string>>();

function firstTime(app: Express, key: string): boolean {
  let keys = mounted.get(app);
  if (!keys) mounted.set(app, (keys = new Set()));
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}

/**
 * Mounts `handlers` on `app` for `method path` once per app: nodes come and go on each deploy, the
 * route stays and dispatches by token, so no Express internals need touching to remove a route.
 */
export function mountOnce(
  app: Express,
  method: 'all' | 'get' | 'post',
  path: string,
  ...handlers: RequestHandler[]
): void {
  if (firstTime(app, `${method} ${path}`)) app[method](path, ...handlers);
}

/** Mounts an app-wide error handler once per app and `name`. */
export function useOnce(app: Express, name: string, handler: ErrorRequestHandler): void {
  if (firstTime(app, `use ${name}`)) app.use(handler);
}
