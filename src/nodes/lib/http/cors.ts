import cors from 'cors';
import type { CorsOptions } from 'cors';
import { httpNodeMiddleware } from '../red.js';
import type { Red, RequestHandler } from '../red.js';

/**
 * iHook's CORS, used when Node-RED's `httpNodeCors` is not set: any origin may POST JSON
 * (docs/idms.md: "CORS is enabled"), and a browser may cache the preflight for a day.
 */
export const HOOK_CORS: CorsOptions = {
  origin: '*',
  methods: ['POST', 'OPTIONS'],
  allowedHeaders: ['Content-Type'],
  maxAge: 86400,
};

/**
 * What runs before our handler on our routes under `RED.httpNode`, as on Node-RED's HTTP In
 * routes: the `httpNodeMiddleware` setting, then CORS as the `httpNodeCors` setting says (the
 * `cors` package, as Node-RED uses it; it answers preflights), else `fallbackCors` (none: no CORS
 * headers, as HTTP In without the setting).
 */
export function nodeRouteMiddleware(RED: Red, fallbackCors?: CorsOptions): RequestHandler[] {
  const withCors = nodeCors(RED, fallbackCors);
  return [...httpNodeMiddleware(RED), ...(withCors ? [withCors] : [])];
}

/** CORS by the `httpNodeCors` setting, else by `fallback` (none: no CORS headers). */
export function nodeCors(RED: Red, fallback?: CorsOptions): RequestHandler | undefined {
  const options = RED.settings.httpNodeCors ?? fallback;
  return options ? cors(options) : undefined;
}
