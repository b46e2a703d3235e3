import { createServer } from 'node:net';

/**
 * Ports of the new-user path (`npm start`, `imis-emulator`): read from an environment variable,
 * and when one is taken, say so in one line that names the variable moving it.
 */

/** The port in `process.env[variable]`, else `fallback`; an Error with a one-line message if not a port. */
export function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${variable} must be a port number (0-65535), not "${raw}"`);
  }
  return port;
}

/** True when `err` is the error of listening on a port that is already taken. */
export function isPortTaken(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/** The one line printed when `what` cannot listen on `port`. */
export function portTakenMessage(what: string, port: number, variable: string): string {
  return `Port ${port} is already in use, so the ${what} cannot start: set ${variable} to another port (e.g. ${variable}=${port + 1}).`;
}

/** Whether `host:port` can be listened on now (tries it and lets go at once). */
export function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => (isPortTaken(err) ? resolve(false) : reject(err)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
