/**
 * Compatibility: dockerode (npm) and Debian's python3-docker against berthd, for what the engine
 * core offers: ping, version, images, create/start/wait/logs/remove.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { TestDaemon, integrationSkipReason } from '../helpers/daemon';

const skip = integrationSkipReason();

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
});
