/**
 * Issue 8, acceptance 2: Debian's docker-compose 1.29 (docker-py) drives the acceptance project
 * against berthd: up -d, ps, logs, down -v. The service_healthy variant needs health checks in
 * the daemon (another issue); the service_started variant runs without them. berth compose reads
 * the project docker-compose made, since both label objects the same way.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { integrationSkipReason, waitFor, type RunResult } from '../helpers/daemon';
import { busyboxDaemon } from '../helpers/suite';
import { httpGet, projectObjects, writeProject } from '../helpers/compose-project';

const COMPOSE_V1 = '/usr/bin/docker-compose';
const skip = integrationSkipReason() ?? (fs.existsSync(COMPOSE_V1) ? undefined : `${COMPOSE_V1} is not installed`);

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe('docker-compose 1.29 against berthd', { skip }, () => {
  const d = busyboxDaemon('compose-v1');

  const v1 = (file: string, project: string, args: string[]): RunResult => {
    const r = spawnSync(COMPOSE_V1, ['--ansi', 'never', '-f', file, '-p', project, ...args], {
      env: { PATH: `/usr/local/bin:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: process.env.HOME ?? '/root', DOCKER_HOST: d.host },
      encoding: 'utf8',
      timeout: 180_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };

  for (const health of [false, true]) {
    const variant = health ? 'service_healthy (needs health checks in the daemon)' : 'service_started';
    test(`acceptance 2, ${variant}: up -d, ps, logs, down -v`, async () => {
      const fx = await writeProject({ health });
      const p = health ? 'v1-health' : 'v1-started';
      try {
        ok(v1(fx.file, p, ['up', '-d']), 'up -d');
        let body = '';
        await waitFor(async () => (body = (await httpGet(fx.port).catch((e: Error) => ({ body: e.message }))).body) === 'hello from web\n', 20_000, `web on 127.0.0.1:${fx.port} (last: ${body})`);
        assert.equal((await httpGet(fx.port, '/greeting')).body, 'hello\n');
        const ps = ok(v1(fx.file, p, ['ps']), 'ps');
        assert.match(ps, new RegExp(`^${p}_db_1 .* Up`, 'm'));
        assert.match(ps, new RegExp(`^${p}_web_1 .* Up .*127\\.0\\.0\\.1:${fx.port}->80/tcp`, 'm'));
        await waitFor(() => v1(fx.file, p, ['logs', 'db']).stdout.includes('db ready'), 20_000, 'db logs');
        assert.match(ok(v1(fx.file, p, ['logs', 'web']), 'logs web'), /web serving/);
        // The same labels: berth compose sees docker-compose's containers.
        const berthPs = ok(d.berth(['compose', '-f', fx.file, '-p', p, 'ps', '--services']), 'berth compose ps');
        assert.equal(berthPs, 'db\nweb\n');
        ok(v1(fx.file, p, ['down', '-v']), 'down -v');
        assert.deepEqual(projectObjects(d, p), { containers: [], networks: [], volumes: [] });
      } finally {
        v1(fx.file, p, ['down', '-v']);
        fx.remove();
      }
    });
  }
});
