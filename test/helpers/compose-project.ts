/**
 * The compose project of issue 8's acceptance tests, written to a temporary directory: `web`
 * built from a Dockerfile (busybox httpd, its GREETING from .env served at /greeting), `db` with
 * a named volume serving a marker file, both on a user network, web's port published on
 * 127.0.0.1. With `health`, db has a health check and web waits for `service_healthy`; without
 * it web waits for `service_started` (what works before health checks exist in the daemon).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { TestDaemon } from './daemon';

export interface ComposeFixture {
  dir: string;
  file: string;
  port: number;
  setGreeting(g: string): void;
  remove(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export async function writeProject(opts: { health: boolean }): Promise<ComposeFixture> {
  const dir = fs.mkdtempSync('/tmp/berth-compose-');
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'web'));
  fs.writeFileSync(
    path.join(dir, 'web', 'Dockerfile'),
    'FROM busybox\nRUN mkdir -p /www && echo "hello from web" > /www/index.html\n' +
      'CMD ["sh", "-c", "echo \\"$GREETING\\" > /www/greeting && echo web serving && exec httpd -f -p 80 -h /www"]\n',
  );
  const dependency = opts.health ? 'service_healthy' : 'service_started';
  const healthcheck = opts.health ? '    healthcheck:\n      test: ["CMD", "test", "-f", "/data/marker"]\n      interval: 1s\n      retries: 30\n' : '';
  fs.writeFileSync(
    path.join(dir, 'compose.yaml'),
    `services:
  web:
    build: ./web
    ports: ["127.0.0.1:\${WEB_PORT}:80"]
    environment:
      GREETING: \${GREETING:?GREETING must be set}
    depends_on:
      db: {condition: ${dependency}}
    networks: [back]
    stop_signal: SIGKILL
  db:
    image: busybox
    command: ["sh", "-c", "sleep 2; echo db-marker > /data/marker; echo db ready; exec httpd -f -p 80 -h /data"]
    volumes: [data:/data]
    networks: [back]
    stop_signal: SIGKILL
${healthcheck}networks:
  back: {}
volumes:
  data: {}
`,
  );
  const fixture: ComposeFixture = {
    dir,
    file: path.join(dir, 'compose.yaml'),
    port,
    setGreeting: (g) => fs.writeFileSync(path.join(dir, '.env'), `WEB_PORT=${port}\nGREETING=${g}\n`),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  fixture.setGreeting('hello');
  return fixture;
}

export function httpGet(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** IDs of the project's containers, networks and volumes as the docker CLI lists them by label. */
export function projectObjects(d: TestDaemon, project: string): { containers: string[]; networks: string[]; volumes: string[] } {
  const filter = `label=com.docker.compose.project=${project}`;
  const lines = (args: string[]): string[] => d.docker(args).stdout.split('\n').filter(Boolean);
  return {
    containers: lines(['ps', '-aq', '--filter', filter]),
    networks: lines(['network', 'ls', '-q', '--filter', filter]),
    volumes: lines(['volume', 'ls', '-q', '--filter', filter]),
  };
}

/** Container ID by name (docker inspect). */
export function containerId(d: TestDaemon, name: string): string {
  return d.docker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
}
