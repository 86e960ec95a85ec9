/**
 * Issue 8, `berth compose`: acceptance 1 (the web + db project: order, names, published port,
 * ps/logs/exec, recreate only what changed, down -v leaves nothing), 3 (invalid files fail
 * naming file and key and create nothing) and 4 (config of two -f files and a profile), plus the
 * lifecycle subcommands, --scale and --remove-orphans.
 *
 * The `service_healthy` variant of acceptance 1 needs health checks in the daemon and `exec`
 * (other issues); the `service_started` variant runs on what the daemon has without them.
 * NETWORK RULE: only 127.0.0.1 and the test's own containers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BERTH, integrationSkipReason, waitFor, type RunResult } from '../helpers/daemon';
import { busyboxDaemon } from '../helpers/suite';
import { containerId, httpGet, projectObjects, writeProject } from '../helpers/compose-project';
import { parseYaml } from '../../src/compose/yaml';
import { BerthRegistry } from '../helpers/berth-registry';

const skip = integrationSkipReason() ?? (fs.existsSync('/usr/lib/cni/bridge') ? undefined : 'containernetworking-plugins is not installed');

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const FETCH_DB = 'for i in $(seq 100); do wget -qO- http://db/marker && exit 0; sleep 0.2; done; exit 1';

describe('compose', { skip }, () => {
  const d = busyboxDaemon('compose');

  const compose = (file: string, project: string, args: string[], env: Record<string, string> = {}): RunResult => d.berth(['compose', '-f', file, '-p', project, ...args], { timeout: 180_000, env });
  const startedAt = (name: string): number => Date.parse(d.docker(['inspect', '-f', '{{.State.StartedAt}}', name]).stdout.trim());

  for (const health of [false, true]) {
    const variant = health ? 'service_healthy (needs health checks and exec in the daemon)' : 'service_started';
    test(`acceptance 1, ${variant}: up, order, names, port, ps, logs, recreate by config hash, down -v`, async () => {
      const fx = await writeProject({ health });
      const p = health ? 'accept-health' : 'accept-started';
      try {
        const up = compose(fx.file, p, ['up', '-d']);
        ok(up, 'up -d');
        const dbName = `${p}-db-1`;
        const webName = `${p}-web-1`;
        // db is started before web; with service_healthy web waits until db's check passes (>= 2 s).
        assert.ok(startedAt(webName) >= startedAt(dbName), up.stderr);
        if (health) {
          const lines = up.stderr.split('\n');
          const healthy = lines.indexOf(` Container ${dbName}  Healthy`);
          assert.ok(healthy >= 0 && healthy < lines.indexOf(` Container ${webName}  Starting`), up.stderr);
          assert.ok(startedAt(webName) - startedAt(dbName) >= 1500, 'web started before db was healthy');
        }
        // The published port answers from the host (once httpd listens); GREETING came from .env.
        let body = '';
        await waitFor(async () => (body = (await httpGet(fx.port).catch((e: Error) => ({ body: e.message }))).body) === 'hello from web\n', 20_000, `web on 127.0.0.1:${fx.port} (last: ${body})`);
        assert.equal((await httpGet(fx.port, '/greeting')).body, 'hello\n');
        // web reaches db by its service name on the project network.
        assert.equal(ok(compose(fx.file, p, ['run', '--rm', 'web', 'sh', '-c', FETCH_DB]), 'run'), 'db-marker\n');
        assert.equal(ok(compose(fx.file, p, ['port', 'web', '80']), 'port'), `127.0.0.1:${fx.port}\n`);
        const ps = ok(compose(fx.file, p, ['ps']), 'ps');
        assert.match(ps, new RegExp(`^${dbName} +busybox .* db +.* Up `, 'm'));
        assert.match(ps, new RegExp(`^${webName} +${p}-web .* web +.* Up .*127\\.0\\.0\\.1:${fx.port}->80/tcp`, 'm'));
        await waitFor(() => compose(fx.file, p, ['logs', 'db']).stdout.includes(`${dbName}  | db ready\n`), 20_000, 'db logs');
        assert.match(ok(compose(fx.file, p, ['logs', '--tail', '1']), 'logs'), new RegExp(`^${webName}  \\| web serving$`, 'm'));
        if (health) assert.equal(ok(compose(fx.file, p, ['exec', '-T', 'db', 'cat', '/data/marker']), 'exec'), 'db-marker\n');

        // No change: nothing is recreated.
        const ids = { db: containerId(d, dbName), web: containerId(d, webName) };
        ok(compose(fx.file, p, ['up', '-d']), 'second up');
        assert.deepEqual({ db: containerId(d, dbName), web: containerId(d, webName) }, ids);
        // One changed variable: only web is recreated.
        fx.setGreeting('changed');
        const again = ok(compose(fx.file, p, ['up', '-d']), 'up after change');
        assert.equal(containerId(d, dbName), ids.db, again);
        assert.notEqual(containerId(d, webName), ids.web);
        assert.equal((await httpGet(fx.port, '/greeting')).body, 'changed\n');

        ok(compose(fx.file, p, ['down', '-v']), 'down -v');
        assert.deepEqual(projectObjects(d, p), { containers: [], networks: [], volumes: [] });
      } finally {
        compose(fx.file, p, ['down', '-v']);
        fx.remove();
      }
    });
  }

  test('acceptance 3: invalid files fail naming the file and the key, and create nothing', () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-bad-');
    const cases: [string, string, RegExp][] = [
      ['unknown', 'services:\n  web:\n    image: busybox\n    colour: red\n', /services\.web additional property 'colour' is not allowed/],
      ['type', 'services:\n  web:\n    image: busybox\n    ports: 80\n', /services\.web\.ports must be an array/],
      ['variable', 'services:\n  web:\n    image: busybox\n    environment:\n      TOKEN: ${TOKEN:?TOKEN is required}\n', /services\.web\.environment\.TOKEN: required variable TOKEN is missing a value: TOKEN is required/],
      ['cycle', 'services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\nvolumes:\n  v: {}\n', /services\.a\.depends_on: dependency cycle detected: a -> b -> a/],
    ];
    try {
      for (const [name, text, want] of cases) {
        const file = path.join(dir, `${name}.yaml`);
        fs.writeFileSync(file, text);
        const r = compose(file, `bad-${name}`, ['up', '-d']);
        assert.notEqual(r.code, 0, `${name}: ${r.stdout}`);
        assert.ok(r.stderr.includes(file), `${name}: ${r.stderr}`);
        assert.match(r.stderr, want, name);
        assert.deepEqual(projectObjects(d, `bad-${name}`), { containers: [], networks: [], volumes: [] }, name);
      }
      assert.deepEqual(d.docker(['ps', '-aq']).stdout, '');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('acceptance 4: config prints the merged, interpolated model of two -f files and a profile', () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-config-');
    try {
      fs.writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox:${TAG:-1.0}\n    command: httpd -f\n    environment: [A=1]\n    ports: ["8080:80"]\n  debug:\n    image: busybox\n    profiles: [tools]\n');
      fs.writeFileSync(path.join(dir, 'override.yaml'), 'services:\n  web:\n    environment:\n      B: ${B_VALUE}\n    ports: ["8443:443"]\n    command: ["httpd", "-v"]\n');
      fs.writeFileSync(path.join(dir, '.env'), 'B_VALUE=from-dotenv\n');
      const args = ['compose', '-f', path.join(dir, 'compose.yaml'), '-f', path.join(dir, 'override.yaml'), '-p', 'cfg'];
      const out = ok(d.berth([...args, '--profile', 'tools', 'config'], { env: { TAG: '2.0' } }), 'config');
      const model = parseYaml(out, 'stdout') as { name: string; services: Record<string, Record<string, unknown>>; networks: Record<string, { name: string }> };
      assert.equal(model.name, 'cfg');
      assert.deepEqual(Object.keys(model.services), ['debug', 'web']);
      const web = model.services.web;
      assert.equal(web.image, 'busybox:2.0');
      assert.deepEqual(web.command, ['httpd', '-v']);
      assert.deepEqual(web.environment, { A: '1', B: 'from-dotenv' });
      assert.deepEqual((web.ports as { target: number; published: string }[]).map((p) => `${p.published}:${p.target}`), ['8080:80', '8443:443']);
      assert.equal(model.networks.default.name, 'cfg_default');
      const without = parseYaml(ok(d.berth([...args, 'config']), 'config'), 'stdout') as { services: Record<string, unknown> };
      assert.deepEqual(Object.keys(without.services), ['web']);
      assert.equal(ok(d.berth([...args, 'config', '--services']), 'config --services'), 'web\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('depends_on service_completed_successfully, a failing dependency, file secrets', async () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-deps-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'deps';
    const write = (initExit: number): void =>
      fs.writeFileSync(
        file,
        `services:
  init:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo seeded > /data/seed; exit ${initExit}"]
    volumes: [data:/data]
  app:
    image: busybox
    command: ["sh", "-c", "cat /data/seed /run/secrets/token; exec sleep 1000"]
    stop_signal: SIGKILL
    volumes: [data:/data]
    secrets: [token]
    depends_on:
      init: {condition: service_completed_successfully}
secrets:
  token: {file: ./token.txt}
volumes:
  data: {}
`,
      );
    try {
      fs.writeFileSync(path.join(dir, 'token.txt'), 's3cret\n');
      write(0);
      ok(compose(file, p, ['up', '-d']), 'up');
      await waitFor(() => compose(file, p, ['logs', '--no-log-prefix', 'app']).stdout === 'seeded\ns3cret\n', 20_000, 'app output');
      assert.ok(startedAt(`${p}-app-1`) > Date.parse(d.docker(['inspect', '-f', '{{.State.FinishedAt}}', `${p}-init-1`]).stdout.trim()) - 1, 'app started before init finished');
      ok(compose(file, p, ['down', '-v']), 'down');
      write(4);
      const r = compose(file, p, ['up', '-d']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /service "init" didn't complete successfully: exit 4/);
      assert.equal(d.docker(['ps', '-aq', '--filter', `name=${p}-app-1`]).stdout, '');
    } finally {
      compose(file, p, ['down', '-v']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('service keys reach the container: user, hostname, mounts, read_only, hosts, caps, stop and restart settings, static address and aliases', async () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-keys-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'keys';
    // A subnet of our own per run, so that parallel test daemons do not collide.
    const net = `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}`;
    try {
      fs.mkdirSync(path.join(dir, 'host'));
      fs.writeFileSync(path.join(dir, 'host', 'f'), 'hostfile\n');
      fs.writeFileSync(
        file,
        `services:
  box:
    image: busybox
    container_name: keys-box
    command: ["sh", "-c", "id -u; hostname; pwd; cat /host/f; grep svc.example /etc/hosts; touch /x 2>/dev/null || echo read-only; touch /scratch/a /t2/b && echo tmpfs-ok; echo X=$$X; exec sleep 1000"]
    hostname: boxhost
    user: "1000:1000"
    working_dir: /tmp
    tmpfs: [/scratch:mode=1777]
    cap_add: [NET_ADMIN]
    cap_drop: [CHOWN]
    read_only: true
    extra_hosts: ["svc.example:10.1.2.3"]
    labels: {a.b: c}
    stop_grace_period: 3s
    stop_signal: SIGKILL
    restart: unless-stopped
    environment: [X=1]
    volumes:
      - ./host:/host:ro
      - {type: tmpfs, target: /t2, tmpfs: {mode: 0o1777}}
    networks:
      front: {aliases: [boxy], ipv4_address: ${net}.10}
  client:
    image: busybox
    command: ["sh", "-c", "for i in $$(seq 50); do ping -c1 -W1 boxy >/tmp/out && head -1 /tmp/out && exit 0; sleep 0.2; done; exit 1"]
    depends_on: [box]
    networks: [front]
networks:
  front:
    ipam: {config: [{subnet: ${net}.0/24}]}
    labels: {team: web}
`,
      );
      ok(compose(file, p, ['up', '-d']), 'up');
      const want = 'keys-box  | 1000\nkeys-box  | boxhost\nkeys-box  | /tmp\nkeys-box  | hostfile\nkeys-box  | 10.1.2.3\tsvc.example\nkeys-box  | read-only\nkeys-box  | tmpfs-ok\nkeys-box  | X=1\n';
      let logs = '';
      await waitFor(() => (logs = compose(file, p, ['logs', 'box']).stdout) === want, 20_000, `box output (last: ${logs})`);
      const inspect = JSON.parse(d.docker(['inspect', 'keys-box']).stdout)[0] as { Config: Record<string, any>; HostConfig: Record<string, any>; NetworkSettings: { Networks: Record<string, any> } };
      assert.deepEqual([inspect.HostConfig.CapAdd, inspect.HostConfig.CapDrop, inspect.HostConfig.ReadonlyRootfs], [['NET_ADMIN'], ['CHOWN'], true]);
      assert.deepEqual([inspect.Config.StopTimeout, inspect.Config.StopSignal, inspect.HostConfig.RestartPolicy.Name], [3, 'SIGKILL', 'unless-stopped']);
      assert.equal(inspect.Config.Labels['a.b'], 'c');
      const ep = inspect.NetworkSettings.Networks[`${p}_front`];
      assert.equal(ep.IPAddress, `${net}.10`);
      assert.ok(ep.Aliases.includes('box') && ep.Aliases.includes('boxy'), JSON.stringify(ep.Aliases));
      assert.equal(JSON.parse(d.docker(['network', 'inspect', '-f', '{{json .Labels}}', `${p}_front`]).stdout).team, 'web');
      // The client found box by its alias at the static address and exited 0.
      await waitFor(() => d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', `${p}-client-1`]).stdout.trim() === 'exited 0', 30_000, 'client');
      assert.match(compose(file, p, ['logs', '--no-log-prefix', 'client']).stdout, new RegExp(`^PING boxy \\(${net.replace(/\./g, '\\.')}\\.10\\)`));
      ok(compose(file, p, ['down']), 'down');
    } finally {
      compose(file, p, ['down', '-v']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('build (dockerfile, args, target, labels), attached up following logs with coloured prefixes, up --wait', () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-build-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'attached';
    try {
      fs.mkdirSync(path.join(dir, 'app'));
      fs.writeFileSync(path.join(dir, 'app', 'Custom.Dockerfile'), 'FROM busybox AS base\nARG MSG=unset\nRUN echo "$MSG" > /msg\nFROM base AS final\nCMD ["cat", "/msg"]\nFROM base AS other\nCMD ["echo", "wrong stage"]\n');
      fs.writeFileSync(
        file,
        `services:
  app:
    build:
      context: ./app
      dockerfile: Custom.Dockerfile
      args: {MSG: built-with-arg}
      target: final
      labels: {org.example.kind: demo}
  other:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo second"]
`,
      );
      ok(compose(file, p, ['build']), 'build');
      const labels = JSON.parse(d.docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', `${p}-app`]).stdout) as Record<string, string>;
      assert.equal(labels['org.example.kind'], 'demo');
      assert.equal(labels['com.docker.compose.service'], 'app');
      // Attached: the output of both, prefixed and coloured per service, until both have exited.
      const up = ok(compose(file, p, ['--ansi', 'always', 'up']), 'up');
      assert.match(up, new RegExp(`^Attaching to ${p}-app-1, ${p}-other-1$`, 'm'));
      assert.match(up, new RegExp(`^\x1b\\[36m${p}-app-1    \\| \x1b\\[0mbuilt-with-arg$`, 'm'));
      assert.match(up, new RegExp(`^\x1b\\[33m${p}-other-1  \\| \x1b\\[0msecond$`, 'm'));
      assert.match(up, new RegExp(`^${p}-app-1 exited with code 0$`, 'm'));
      assert.match(up, new RegExp(`^${p}-other-1 exited with code 0$`, 'm'));
      // --rmi local: the built image goes, busybox (named in the file) stays.
      ok(compose(file, p, ['down', '--rmi', 'local']), 'down --rmi local');
      assert.notEqual(d.docker(['image', 'inspect', `${p}-app`]).code, 0);
      assert.equal(d.docker(['image', 'inspect', 'busybox']).code, 0);
      // --wait returns once the services run (no health checks here).
      fs.writeFileSync(file, 'services:\n  svc:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n');
      ok(compose(file, p, ['up', '-d', '--wait', '--remove-orphans']), 'up --wait');
      assert.equal(d.docker(['inspect', '-f', '{{.State.Status}}', `${p}-svc-1`]).stdout.trim(), 'running');
      ok(compose(file, p, ['down']), 'down');
      assert.deepEqual(projectObjects(d, p), { containers: [], networks: [], volumes: [] });
    } finally {
      compose(file, p, ['down', '-v', '--remove-orphans']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('push and pull service images through a registry on 127.0.0.1', async () => {
    const reg = new BerthRegistry('compose');
    const dir = fs.mkdtempSync('/tmp/berth-compose-push-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'pushpull';
    try {
      await reg.start();
      const image = `${reg.host}/demo/app:1`;
      fs.mkdirSync(path.join(dir, 'app'));
      fs.writeFileSync(path.join(dir, 'app', 'Dockerfile'), 'FROM busybox\nRUN echo pushed > /marker\n');
      fs.writeFileSync(file, `services:\n  app:\n    image: ${image}\n    build: ./app\n    command: cat /marker\n  base:\n    image: busybox\n`);
      ok(compose(file, p, ['build']), 'build');
      const esc = image.replace(/[.]/g, '\\.');
      const pushed = compose(file, p, ['push', 'app']);
      ok(pushed, 'push');
      assert.match(pushed.stderr, new RegExp(`Image ${esc}  Pushed`));
      ok(d.docker(['rmi', image]), 'rmi');
      ok(compose(file, p, ['pull', '--ignore-buildable', 'app']), 'pull ignoring buildable');
      assert.notEqual(d.docker(['image', 'inspect', image]).code, 0, 'a buildable service was pulled');
      const pulled = compose(file, p, ['pull', 'app']);
      ok(pulled, 'pull');
      assert.match(pulled.stderr, new RegExp(`Image ${esc}  Pulled`));
      assert.equal(ok(compose(file, p, ['run', '--rm', 'app']), 'run'), 'pushed\n');
    } finally {
      compose(file, p, ['down', '--rmi', 'local']);
      d.docker(['rmi', `${reg.host}/demo/app:1`]);
      await reg.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('scale, stop/start/restart/kill/rm, --remove-orphans, ls, images, compose labels', () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-life-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'life';
    try {
      fs.writeFileSync(file, 'services:\n  worker:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n  extra:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n');
      ok(compose(file, p, ['up', '-d', '--scale', 'worker=2']), 'up --scale');
      const names = (): string => compose(file, p, ['ps', '--format', 'json']).stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { Name: string; State: string }))
        .map((c) => `${c.Name}:${c.State}`).sort().join(' ');
      assert.equal(names(), `${p}-extra-1:running ${p}-worker-1:running ${p}-worker-2:running`);
      const labels = JSON.parse(d.docker(['inspect', '-f', '{{json .Config.Labels}}', `${p}-worker-2`]).stdout) as Record<string, string>;
      assert.equal(labels['com.docker.compose.project'], p);
      assert.equal(labels['com.docker.compose.service'], 'worker');
      assert.equal(labels['com.docker.compose.container-number'], '2');
      assert.equal(labels['com.docker.compose.oneoff'], 'False');
      assert.match(labels['com.docker.compose.config-hash'], /^[0-9a-f]{64}$/);
      assert.ok(labels['com.docker.compose.version']);
      assert.match(ok(d.berth(['compose', 'ls']), 'ls'), /^life +running\(3\) /m);
      assert.match(ok(compose(file, p, ['images']), 'images'), new RegExp(`^${p}-worker-2 +busybox +latest `, 'm'));
      assert.match(ok(compose(file, p, ['top', 'worker']), 'top'), new RegExp(`^${p}-worker-2\nUID +PID .*\n.* sleep 1000$`, 'm'));
      ok(compose(file, p, ['stop', 'worker']), 'stop');
      assert.match(d.docker(['top', `${p}-worker-1`]).stderr, /is not running/);
      assert.equal(compose(file, p, ['ps', '-q']).stdout.split('\n').filter(Boolean).length, 1);
      ok(compose(file, p, ['start']), 'start');
      ok(compose(file, p, ['restart', 'extra']), 'restart');
      ok(compose(file, p, ['kill', 'extra']), 'kill');
      assert.equal(d.docker(['inspect', '-f', '{{.State.Status}}', `${p}-extra-1`]).stdout.trim(), 'exited');
      ok(compose(file, p, ['rm', '-f', 'extra']), 'rm');
      assert.equal(names(), `${p}-worker-1:running ${p}-worker-2:running`);
      ok(compose(file, p, ['up', '-d']), 'up recreates extra');
      // `extra` removed from the file: its container is an orphan until --remove-orphans.
      fs.writeFileSync(file, 'services:\n  worker:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n');
      ok(compose(file, p, ['up', '-d', '--scale', 'worker=1']), 'scale down');
      assert.match(compose(file, p, ['up', '-d']).stderr, new RegExp(`Found orphan containers \\(${p}-extra-1\\)`));
      assert.equal(names(), `${p}-extra-1:running ${p}-worker-1:running`);
      ok(compose(file, p, ['up', '-d', '--remove-orphans']), 'up --remove-orphans');
      assert.equal(names(), `${p}-worker-1:running`);
      // Without a file, -p alone finds the project by its labels.
      const empty = fs.mkdtempSync('/tmp/berth-compose-nofile-');
      try {
        const byName = (args: string[]): RunResult => d.berth(['compose', '-p', p, '--project-directory', empty, ...args]);
        assert.equal(ok(byName(['ps', '--services']), 'ps by name'), 'worker\n');
        ok(byName(['down']), 'down by name');
      } finally {
        fs.rmSync(empty, { recursive: true, force: true });
      }
      assert.deepEqual(projectObjects(d, p), { containers: [], networks: [], volumes: [] });
    } finally {
      compose(file, p, ['down', '-v', '--remove-orphans']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test('up --exit-code-from: the first exit stops the others, the exit code is the service\'s', () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-abort-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'abort';
    try {
      fs.writeFileSync(file, 'services:\n  a:\n    image: busybox\n    command: ["sh", "-c", "exit 3"]\n  b:\n    image: busybox\n    command: sleep 60\n    stop_signal: SIGKILL\n');
      const started = Date.now();
      const up = compose(file, p, ['up', '--exit-code-from', 'a']);
      assert.equal(up.code, 3, `${up.stderr}${up.stdout}`);
      assert.ok(Date.now() - started < 50_000, 'up waited for b to end by itself');
      assert.match(up.stdout, new RegExp(`^${p}-a-1 exited with code 3$`, 'm'));
      assert.match(up.stdout, /^Aborting on container exit\.\.\.$/m);
      const state = (n: string): string => d.docker(['inspect', '-f', '{{.State.Status}}', n]).stdout.trim();
      assert.deepEqual([state(`${p}-a-1`), state(`${p}-b-1`)], ['exited', 'exited']);
      // Without --exit-code-from the code is the first exited container's; -d is refused.
      fs.writeFileSync(file, 'services:\n  a:\n    image: busybox\n    command: ["sh", "-c", "sleep 1; exit 5"]\n  b:\n    image: busybox\n    command: sleep 60\n    stop_signal: SIGKILL\n');
      assert.equal(compose(file, p, ['up', '--abort-on-container-exit']).code, 5);
      assert.equal(state(`${p}-b-1`), 'exited');
      const detached = compose(file, p, ['up', '-d', '--abort-on-container-exit']);
      assert.notEqual(detached.code, 0);
      assert.match(detached.stderr, /--abort-on-container-exit and --detach are incompatible/);
      ok(compose(file, p, ['down']), 'down');
      assert.deepEqual(projectObjects(d, p), { containers: [], networks: [], volumes: [] });
    } finally {
      compose(file, p, ['down', '-v']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pause and unpause: ps shows the containers paused, then running again', () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-pause-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'pausing';
    try {
      fs.writeFileSync(file, 'services:\n  one:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n  two:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n');
      ok(compose(file, p, ['up', '-d']), 'up -d');
      const states = (): string => compose(file, p, ['ps', '--format', 'json']).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Service: string; State: string })
        .map((c) => `${c.Service}:${c.State}`).sort().join(' ');
      const paused = ok(compose(file, p, ['pause', 'one']), 'pause');
      assert.equal(paused, '');
      assert.equal(states(), 'one:paused two:running');
      assert.match(ok(compose(file, p, ['ps']), 'ps'), new RegExp(`^${p}-one-1 .*Up .*\\(Paused\\)`, 'm'));
      ok(compose(file, p, ['pause']), 'pause all');
      assert.equal(states(), 'one:paused two:paused');
      ok(compose(file, p, ['unpause']), 'unpause');
      assert.equal(states(), 'one:running two:running');
      ok(compose(file, p, ['down']), 'down');
      assert.deepEqual(projectObjects(d, p), { containers: [], networks: [], volumes: [] });
    } finally {
      compose(file, p, ['down', '-v']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  test('events: the project\'s container events as docker compose prints them, --json, per service', async () => {
    const dir = fs.mkdtempSync('/tmp/berth-compose-events-');
    const file = path.join(dir, 'compose.yaml');
    const p = 'evt';
    const watchers: { out: () => string; kill: () => void }[] = [];
    const watch = (args: string[]): { out: () => string; kill: () => void } => {
      const child = spawn(process.execPath, [BERTH, 'compose', '-f', file, '-p', p, 'events', ...args], { env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const w = { out: () => out, kill: () => child.kill('SIGKILL') };
      watchers.push(w);
      return w;
    };
    try {
      fs.writeFileSync(file, 'services:\n  a:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n  b:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n');
      // Another project's events must not show.
      fs.writeFileSync(path.join(dir, 'other.yaml'), 'services:\n  a:\n    image: busybox\n    command: sleep 1000\n    stop_signal: SIGKILL\n');
      const text = watch([]);
      const json = watch(['--json', 'b']);
      await new Promise((r) => setTimeout(r, 1500));
      ok(d.berth(['compose', '-f', path.join(dir, 'other.yaml'), '-p', 'evt-other', 'up', '-d'], { timeout: 120_000 }), 'other up');
      ok(compose(file, p, ['up', '-d']), 'up -d');
      const a = containerId(d, `${p}-a-1`);
      const b = containerId(d, `${p}-b-1`);
      await waitFor(() => text.out().includes(` container start ${b} `) && text.out().includes(` container start ${a} `), 30_000, `text events (got ${text.out()})`);
      await waitFor(() => json.out().includes('"action":"start"'), 30_000, `json events (got ${json.out()})`);
      const start = text.out().split('\n').find((l) => l.includes(` container start ${a} `)) ?? '';
      assert.match(start, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} container start ${a} \\((.+, )?image=busybox, name=${p}-a-1\\)$`));
      assert.ok(!text.out().includes('com.docker.compose.'), text.out());
      assert.ok(!text.out().includes('evt-other'), text.out());
      const events = json.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; id: string; service: string; type: string; time: string; attributes: Record<string, string> });
      assert.ok(events.length > 0 && events.every((e) => e.service === 'b' && e.id === b && e.type === 'container'), json.out());
      const started = events.find((e) => e.action === 'start');
      assert.equal(started?.attributes.name, `${p}-b-1`);
      assert.ok(!Number.isNaN(Date.parse(started?.time ?? '')), json.out());
      ok(compose(file, p, ['down']), 'down');
      ok(d.berth(['compose', '-f', path.join(dir, 'other.yaml'), '-p', 'evt-other', 'down']), 'other down');
      assert.deepEqual(projectObjects(d, p), { containers: [], networks: [], volumes: [] });
    } finally {
      for (const w of watchers) w.kill();
      compose(file, p, ['down', '-v']);
      d.berth(['compose', '-f', path.join(dir, 'other.yaml'), '-p', 'evt-other', 'down', '-v']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
