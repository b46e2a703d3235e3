import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';

/**
 * Debian's nginx as the reverse proxy in front of several Node-RED processes, with the
 * configuration the README shows (section "Several Node-RED processes"), in a temporary folder,
 * listening on a free port of 127.0.0.1. One process (no master), stopped with the test.
 */
export const NGINX = '/usr/sbin/nginx';

export interface TestNginx {
  url: string;
  stop(): Promise<void>;
}

/** Skips the calling test when nginx is not installed; under CI=true fails (.ci/run installs it). */
export function requireNginx(ctx: Mocha.Context): boolean {
  if (existsSync(NGINX)) return true;
  if (process.env.CI === 'true') throw new Error('nginx is missing (apt-get install nginx)');
  console.log('    (nginx not installed: skipping; apt-get install nginx to run this test)');
  ctx.skip();
  return false;
}

export async function startNginx(upstreamPorts: number[]): Promise<TestNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'imis-nginx-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const port = await freePort();
  const servers = upstreamPorts
    .map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`)
    .join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream imis_nodered {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location /imis/ {
      proxy_pass http://imis_nodered;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() - started > 10_000) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start (see ${dir}/error.log)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
