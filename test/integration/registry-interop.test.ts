/**
 * Issue 3, acceptance 2: skopeo copies an image from Debian's docker-registry into
 * `berth registry serve`; berthd pulls it from there and runs it; berthd pushes to
 * `berth registry serve` and skopeo reads the same digest back.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { TestDaemon, integrationSkipReason } from '../helpers/daemon';
import { DistributionRegistry, DOCKER_REGISTRY } from '../helpers/registry';
import { BerthRegistry } from '../helpers/berth-registry';

const skip = integrationSkipReason() ?? (!fs.existsSync(DOCKER_REGISTRY) ? 'docker-registry is not installed' : !fs.existsSync('/usr/bin/skopeo') ? 'skopeo is not installed' : undefined);

describe('skopeo, docker-registry and berth registry serve', { skip }, () => {
  const d = new TestDaemon('interop');
  const dist = new DistributionRegistry('interop');
  const ours = new BerthRegistry('interop');
  before(async () => {
    await Promise.all([d.start(), dist.start(), ours.start()]);
    d.importBusybox();
  });
  after(async () => {
    await dist.cleanup();
    await ours.cleanup();
    assert.deepEqual(await d.cleanup(), []);
  });

  test('docker-registry → skopeo → berth registry → berthd pull and run; berthd push → skopeo inspect', () => {
    const src = `${dist.host}/interop/busybox:v1`;
    assert.equal(d.docker(['tag', 'busybox', src]).code, 0);
    const push = d.docker(['push', src]);
    assert.equal(push.code, 0, push.stderr);
    const cp = spawnSync('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${ours.host}/copied/busybox:v1`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(cp.status, 0, cp.stderr);
    const pulled = d.docker(['pull', `${ours.host}/copied/busybox:v1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(d.docker(['run', '--rm', `${ours.host}/copied/busybox:v1`, 'echo', 'via-skopeo']).stdout, 'via-skopeo\n');

    const dst = `${ours.host}/pushed/busybox:v2`;
    assert.equal(d.docker(['tag', 'busybox', dst]).code, 0);
    const p2 = d.docker(['push', dst]);
    assert.equal(p2.code, 0, p2.stderr);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(p2.stdout)![1];
    const insp = spawnSync('skopeo', ['inspect', '--tls-verify=false', `docker://${dst}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(insp.status, 0, insp.stderr);
    assert.equal((JSON.parse(insp.stdout) as { Digest: string }).Digest, digest);
  });
});
