/**
 * Compatibility: dockerode (npm) and Debian's python3-docker against berthd, for what the engine
 * core offers (ping, version, images, create/start/wait/logs/remove) and the day-2 calls (exec,
 * attach with stdin, events, stats, top, pause, update, archive, changes, commit, export, prune,
 * df, health checks, restart policies, logs options), plus the calls Testcontainers makes.
 * The python3-docker part lives in docker_py_day2.py, one scenario per test here.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import { TestDaemon, integrationSkipReason, waitFor, ROOT } from '../helpers/daemon';

const skip = integrationSkipReason();
const noPython = fs.existsSync('/usr/lib/python3/dist-packages/docker') ? undefined : 'python3-docker is not installed';
const PY_SCRIPT = path.join(ROOT, 'test', 'compat', 'docker_py_day2.py');

/** Splits Docker's multiplexed frames into stdout and stderr text. */
function demux(raw: Buffer): { out: string; err: string } {
  let out = '';
  let err = '';
  for (let i = 0; i + 8 <= raw.length; ) {
    const len = raw.readUInt32BE(i + 4);
    const payload = raw.subarray(i + 8, i + 8 + len).toString();
    if (raw[i] === 1) out += payload;
    else err += payload;
    i += 8 + len;
  }
  return { out, err };
}

function collect(s: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

/** Reads a multiplexed stream until its stdout holds `needle` (or it ends). */
function readUntil(s: Duplex | Readable, needle: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(needle)}; got ${JSON.stringify(demux(buf))}`)), timeoutMs);
    const check = (): void => {
      const { out } = demux(buf);
      if (out.includes(needle)) {
        clearTimeout(t);
        s.off('data', onData);
        resolve(out);
      }
    };
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      check();
    };
    s.on('data', onData);
    s.once('end', () => {
      clearTimeout(t);
      resolve(demux(buf).out);
    });
  });
}

/** A tar of the given files, made by tar(1) from a scratch directory. */
function tarOf(files: Record<string, string>): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-compat-tar-'));
  try {
    for (const [name, data] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), data);
    }
    const r = spawnSync('tar', ['-C', dir, '--owner=0', '--group=0', '-cf', '-', ...Object.keys(files)]);
    assert.equal(r.status, 0, String(r.stderr));
    return r.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Lists a tar's entry names (and a file's content when `file` is given) with tar(1). */
function untar(tar: Buffer, file?: string): string {
  const r = spawnSync('tar', file ? ['-xOf', '-', file] : ['-tf', '-'], { input: tar, maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  return String(r.stdout);
}

describe('dockerode against berthd', { skip }, () => {
  const d = new TestDaemon('dockerode');
  let docker: Docker;
  before(async () => {
    await d.start();
    d.importBusybox();
    docker = new Docker({ socketPath: d.socket });
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  test('ping, version and image list', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const v = await docker.version();
    assert.equal(v.ApiVersion, '1.41');
    const images = await docker.listImages();
    assert.ok(images.some((i) => (i.RepoTags ?? []).includes('busybox:latest')));
  });

  test('create, start, wait, logs (demultiplexed), remove', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'], name: 'dockerode-run' });
    await c.start();
    const res = (await c.wait()) as { StatusCode: number };
    assert.equal(res.StatusCode, 5);
    const raw = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    let out = '';
    let err = '';
    for (let i = 0; i < raw.length; ) {
      const len = raw.readUInt32BE(i + 4);
      const payload = raw.subarray(i + 8, i + 8 + len).toString();
      if (raw[i] === 1) out += payload;
      else err += payload;
      i += 8 + len;
    }
    assert.equal(out, 'out\n');
    assert.equal(err, 'err\n');
    const info = await c.inspect();
    assert.equal(info.State.ExitCode, 5);
    assert.equal(info.Name, '/dockerode-run');
    await c.remove();
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  test('python3-docker (Debian) runs a container', { skip: fs.existsSync('/usr/lib/python3/dist-packages/docker') ? undefined : 'python3-docker is not installed' }, () => {
    const script = [
      'import docker, sys',
      `c = docker.DockerClient(base_url="unix://${d.socket}")`,
      'assert c.ping()',
      'out = c.containers.run("busybox", ["echo", "from-python"], remove=True)',
      'sys.stdout.write(out.decode())',
      'print(len([i for i in c.images.list() if "busybox:latest" in i.tags]))',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'from-python\n1\n');
  });

  test('exec: hijacked stdin, exit code from inspect, user/workdir/env', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'] });
    await c.start();
    try {
      const ex = await c.exec({ Cmd: ['sh', '-c', 'read x; echo in:$x; echo e >&2; exit 7'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
      const stream = (await ex.start({ hijack: true, stdin: true })) as Duplex;
      stream.write('abc\n');
      const out = await readUntil(stream, 'in:abc\n');
      assert.equal(out, 'in:abc\n');
      stream.end();
      await waitFor(async () => !(await ex.inspect()).Running, 30_000, 'exec end');
      const info = await ex.inspect();
      assert.equal(info.ExitCode, 7);
      assert.equal(info.ContainerID, c.id);
      const ex2 = await c.exec({ Cmd: ['sh', '-c', 'id -u; pwd; echo $FOO'], User: '1000', WorkingDir: '/tmp', Env: ['FOO=bar'], AttachStdout: true, AttachStderr: true });
      const s2 = (await ex2.start({})) as Readable;
      assert.deepEqual(demux(await collect(s2)), { out: '1000\n/tmp\nbar\n', err: '' });
      assert.equal((await ex2.inspect()).ExitCode, 0);
    } finally {
      await c.remove({ force: true });
    }
  });

  test('attach with stdin to a tty=false, OpenStdin container', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'read l; echo got:$l; read m; echo bye:$m'], OpenStdin: true, Tty: false });
    try {
      const stream = (await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
      await c.start();
      stream.write('hello\n');
      assert.match(await readUntil(stream, 'got:hello\n'), /got:hello\n/);
      stream.write('world\n');
      assert.match(await readUntil(stream, 'bye:world\n'), /bye:world\n/);
      stream.end();
      assert.equal(((await c.wait()) as { StatusCode: number }).StatusCode, 0);
    } finally {
      await c.remove({ force: true });
    }
  });

  test('getEvents with since/until and filters returns create, start, attach, kill, die, destroy', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], Labels: { compat: 'dockerode-events' } });
    await c.start();
    await c.attach({ stream: false, logs: true, stdout: true });
    await c.remove({ force: true });
    const until = Math.floor(Date.now() / 1000) + 1;
    const stream = (await docker.getEvents({ since, until, filters: { container: [c.id] } })) as unknown as Readable;
    const evs = (await collect(stream)).toString().trim().split('\n').map((l) => JSON.parse(l) as { Action: string; Type: string; Actor: { ID: string; Attributes: Record<string, string> } });
    assert.deepEqual(evs.map((e) => e.Action), ['create', 'start', 'attach', 'kill', 'die', 'destroy']);
    for (const e of evs) assert.equal(e.Actor.ID, c.id);
    assert.equal(evs.find((e) => e.Action === 'create')?.Actor.Attributes.compat, 'dockerode-events');
    assert.equal(evs.find((e) => e.Action === 'kill')?.Actor.Attributes.signal, '9');
    assert.equal(evs.find((e) => e.Action === 'die')?.Actor.Attributes.exitCode, '137');
  });

  test('stats, top, pause/unpause, update, restart policy', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'while :; do :; done'], HostConfig: { Memory: 64 << 20, RestartPolicy: { Name: 'unless-stopped' } } });
    await c.start();
    try {
      assert.deepEqual((await c.inspect()).HostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
      const s = (await c.stats({ stream: false })) as unknown as { memory_stats: { usage: number; limit: number }; cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number }; precpu_stats: { cpu_usage: { total_usage: number } } };
      assert.ok(s.memory_stats.usage > 0);
      assert.equal(s.memory_stats.limit, 64 << 20);
      assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
      assert.ok(s.cpu_stats.system_cpu_usage > 0);
      assert.equal(typeof s.precpu_stats.cpu_usage.total_usage, 'number');
      const top = (await c.top({ ps_args: 'aux' })) as { Titles: string[]; Processes: string[][] };
      assert.ok(top.Titles.includes('PID') && top.Titles.includes('COMMAND'), top.Titles.join());
      assert.ok(top.Processes.some((p) => p[top.Titles.indexOf('COMMAND')].includes('while')));
      await c.pause();
      assert.equal((await c.inspect()).State.Status, 'paused');
      await c.unpause();
      assert.equal((await c.inspect()).State.Status, 'running');
      await c.update({ Memory: 96 << 20, MemorySwap: 192 << 20 });
      assert.equal((await c.inspect()).HostConfig.Memory, 96 << 20);
    } finally {
      await c.remove({ force: true });
    }
  });

  test('putArchive/getArchive/infoArchive, changes, commit then run it, export', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'] });
    let committed: string | undefined;
    try {
      await c.putArchive(tarOf({ 'hello.txt': 'hi there\n' }), { path: '/tmp' });
      await c.start();
      const res = (await c.infoArchive({ path: '/tmp/hello.txt' })) as unknown as { headers: Record<string, string> };
      const stat = JSON.parse(Buffer.from(res.headers['x-docker-container-path-stat'], 'base64').toString()) as { name: string; size: number };
      assert.equal(stat.name, 'hello.txt');
      assert.equal(stat.size, 9);
      const tar = await collect((await c.getArchive({ path: '/tmp/hello.txt' })) as unknown as Readable);
      assert.equal(untar(tar, 'hello.txt'), 'hi there\n');
      await assert.rejects(c.getArchive({ path: '/missing' }), (e: { statusCode?: number }) => e.statusCode === 404);
      const ex = await c.exec({ Cmd: ['sh', '-c', 'echo changed > /etc/motd; rm /bin/vi'], AttachStdout: true });
      await collect((await ex.start({})) as Readable);
      const changes = (await c.changes()) as Array<{ Path: string; Kind: number }>;
      const kinds = new Map(changes.map((x) => [x.Path, x.Kind]));
      assert.equal(kinds.get('/etc/motd'), 1);
      assert.equal(kinds.get('/bin/vi'), 2);
      assert.equal(kinds.get('/tmp/hello.txt'), 1);
      const r = (await c.commit({ repo: 'compat/dockerode', tag: 'v1', changes: ['ENV COMMITTED=yes', 'CMD ["cat", "/etc/motd"]'] })) as { Id: string };
      committed = r.Id;
      const img = await docker.getImage('compat/dockerode:v1').inspect();
      assert.equal(img.Id, r.Id);
      assert.ok(img.Config.Env.includes('COMMITTED=yes'));
      const run = await docker.createContainer({ Image: 'compat/dockerode:v1' });
      await run.start();
      await run.wait();
      assert.equal(demux((await run.logs({ stdout: true, stderr: true })) as unknown as Buffer).out, 'changed\n');
      await run.remove();
      const names = untar(await collect((await c.export()) as unknown as Readable)).split('\n');
      assert.ok(names.some((n) => n.replace(/^\.?\//, '') === 'etc/motd'));
      assert.ok(!names.some((n) => n.replace(/^\.?\//, '') === 'bin/vi'));
    } finally {
      await c.remove({ force: true });
      if (committed) await docker.getImage(committed).remove();
    }
  });

  test('pruneContainers, pruneImages, df', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], Labels: { prune: 'dockerode' } });
    await c.start();
    await c.wait();
    const img = (await c.commit({})) as { Id: string };
    const res = await docker.pruneContainers({ filters: { label: ['prune=dockerode'] } });
    assert.deepEqual(res.ContainersDeleted, [c.id]);
    const ires = await docker.pruneImages({ filters: { dangling: ['true'] } });
    assert.ok((ires.ImagesDeleted ?? []).some((d) => d.Deleted === img.Id), JSON.stringify(ires));
    const df = (await docker.df()) as { Images: Array<{ RepoTags: string[] }>; LayersSize: number; Containers: unknown[]; Volumes: unknown[] };
    assert.ok(df.Images.some((i) => (i.RepoTags ?? []).includes('busybox:latest')));
    assert.ok(df.LayersSize > 0);
    assert.ok(Array.isArray(df.Containers) && Array.isArray(df.Volumes));
  });

  test('health check reaches healthy; logs with timestamps/tail/since', async () => {
    const c = await docker.createContainer({
      Image: 'busybox',
      Cmd: ['sh', '-c', 'echo one; echo two; sleep 300'],
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1_000_000_000, Timeout: 5_000_000_000, Retries: 3 },
    });
    await c.start();
    try {
      await waitFor(async () => (await c.inspect()).State.Health?.Status === 'healthy', 60_000, 'healthy');
      const raw = (await c.logs({ stdout: true, timestamps: true, tail: 1 })) as unknown as Buffer;
      const line = demux(raw).out;
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z two\n$/);
      const ts = Date.parse(line.split(' ')[0]);
      assert.equal(demux((await c.logs({ stdout: true, since: Math.floor(ts / 1000) + 2 })) as unknown as Buffer).out, '');
      assert.equal(demux((await c.logs({ stdout: true, since: Math.floor(ts / 1000) - 1 })) as unknown as Buffer).out, 'one\ntwo\n');
      assert.equal(demux((await c.logs({ stdout: true, until: Math.floor(ts / 1000) - 1 })) as unknown as Buffer).out, '');
      assert.equal(demux((await c.logs({ stdout: true, since: Math.floor(ts / 1000) - 1, until: Math.floor(ts / 1000) + 2, tail: 1 })) as unknown as Buffer).out, 'two\n');
    } finally {
      await c.remove({ force: true });
    }
  });

  test('the Testcontainers startup flow', async () => {
    // ping with its headers, info, version, image inspect
    const ping = await d.request('GET', '/_ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.body, 'OK');
    assert.ok(ping.headers['api-version']);
    assert.equal(ping.headers['ostype'], 'linux');
    const info = await docker.info();
    assert.equal(typeof info.ServerVersion, 'string');
    assert.equal(info.OperatingSystem !== undefined, true);
    assert.equal((await docker.version()).ApiVersion, '1.41');
    const image = await docker.getImage('busybox:latest').inspect();
    assert.ok(image.Id.startsWith('sha256:'));
    await assert.rejects(docker.getImage('no-such-image:1').inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
    // create with labels and -P, copy a file in before start, start, follow logs until a line
    const session = 'compat-session';
    const c = await docker.createContainer({
      Image: 'busybox:latest',
      Cmd: ['sh', '-c', 'cat /cfg/app.conf; echo Ready to accept connections; exec sleep 300'],
      Labels: { 'org.testcontainers': 'true', 'org.testcontainers.session-id': session },
      ExposedPorts: { '8080/tcp': {}, '9000/tcp': {} },
      // testcontainers-node asks for -P; docker-java binds each port with an empty HostPort
      HostConfig: { PublishAllPorts: true, PortBindings: { '9000/tcp': [{ HostIp: '', HostPort: '' }] } },
    });
    try {
      await c.putArchive(tarOf({ 'cfg/app.conf': 'setting=1\n' }), { path: '/' });
      await c.start();
      const logs = (await c.logs({ follow: true, stdout: true, stderr: true, since: 0 })) as unknown as Readable;
      const out = await readUntil(logs, 'Ready to accept connections');
      logs.destroy();
      assert.equal(out, 'setting=1\nReady to accept connections\n');
      const ex = await c.exec({ Cmd: ['cat', '/cfg/app.conf'], AttachStdout: true, AttachStderr: true });
      assert.equal(demux(await collect((await ex.start({})) as Readable)).out, 'setting=1\n');
      assert.equal((await ex.inspect()).ExitCode, 0);
      const insp = await c.inspect();
      for (const port of ['8080/tcp', '9000/tcp']) {
        const bound = insp.NetworkSettings.Ports[port];
        assert.ok(bound && Number(bound[0].HostPort) > 0, JSON.stringify(insp.NetworkSettings.Ports));
      }
      assert.equal(insp.Config.Labels['org.testcontainers.session-id'], session);
      const listed = await docker.listContainers({ filters: { label: [`org.testcontainers.session-id=${session}`] } });
      assert.deepEqual(listed.map((x) => x.Id), [c.id]);
      assert.ok(listed[0].Ports.some((p) => p.PrivatePort === 8080 && (p.PublicPort ?? 0) > 0));
      await c.stop({ t: 1 });
      assert.equal((await c.inspect()).State.Running, false);
    } finally {
      await c.remove({ v: true, force: true });
    }
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  });

  for (const scenario of ['attach_stdin', 'exec', 'events', 'live_events_attach', 'stats_top_pause_update', 'restart_policy', 'archive_diff_commit_export', 'prune_df', 'health', 'logs_wait', 'ports']) {
    test(`python3-docker day-2: ${scenario}`, { skip: noPython }, () => {
      const r = spawnSync('/usr/bin/python3', [PY_SCRIPT, d.socket, scenario], { encoding: 'utf8', timeout: 180_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `ok ${scenario}\n`);
    });
  }
});
