/**
 * Issue 7: dockerd's --userns-remap. Containers run in a user namespace whose root is the first
 * subordinate id of a test user (an entry this test adds to /etc/subuid and /etc/subgid and
 * removes again); the image appears owned by root through idmapped layer mounts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { TestDaemon, integrationSkipReason } from '../helpers/daemon';

const skip = integrationSkipReason();
const BASE = 400000 + (process.pid % 100) * 65536;
const USER = `berthremap${process.pid}`;

/** Adds a line to an ids file; returns how to undo it. */
function addRange(file: string): () => void {
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  fs.writeFileSync(file, `${before ?? ''}${before && !before.endsWith('\n') ? '\n' : ''}${USER}:${BASE}:65536\n`);
  return () => {
    if (before === undefined) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, before);
  };
}

describe('daemon options: --userns-remap, --init, --init-path', { skip }, () => {
  const undo: (() => void)[] = [];
  undo.push(addRange('/etc/subuid'), addRange('/etc/subgid'));
  const d = new TestDaemon('userns', ['--userns-remap', USER, '--init']);
  // A copy of tini under another name: --init-path is what containers get.
  const initPath = path.join(d.dir, 'my-init');
  d.extraArgs.push('--init-path', initPath);
  before(async () => {
    // Trailing bytes make it a different file that still runs.
    fs.writeFileSync(initPath, Buffer.concat([fs.readFileSync('/usr/bin/tini-static'), Buffer.from('berth-init-path-test')]));
    fs.chmodSync(initPath, 0o755);
    await d.start();
    d.importBusybox();
  });
  after(async () => {
    d.docker(['rm', '-f', 'remapped']);
    d.docker(['volume', 'rm', 'unsvol', 'unsetc']);
    try {
      assert.deepEqual(await d.cleanup(), []);
    } finally {
      for (const u of undo) u();
    }
  });

  const sh = (script: string, extra: string[] = []): { code: number; out: string; err: string } => {
    const r = d.docker(['run', '--rm', ...extra, 'busybox', 'sh', '-c', script]);
    return { code: r.code, out: r.stdout, err: r.stderr };
  };

  test("root in the container is the user's first subordinate id on the host", () => {
    const r = sh('id -u; cat /proc/self/uid_map; ls -ln /bin/sh');
    assert.equal(r.code, 0, r.err);
    const [uid, map, ls] = r.out.trim().split('\n');
    assert.equal(uid, '0');
    assert.deepEqual(map.trim().split(/\s+/), ['0', String(BASE), '65536']);
    assert.match(ls, /^\S+\s+\d+\s+0\s+0\s/, 'image files appear owned by root');

    const c = d.docker(['run', '-d', '--name', 'remapped', 'busybox', 'sh', '-c', 'touch /made; sleep 300']);
    assert.equal(c.code, 0, c.stderr);
    const info = JSON.parse(d.docker(['inspect', 'remapped']).stdout)[0] as { Id: string; State: { Pid: number } };
    assert.match(fs.readFileSync(`/proc/${info.State.Pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${BASE}\\s`, 'm'));
    const upper = path.join(d.dataRoot, 'containers', info.Id, 'upper', 'made');
    for (let i = 0; i < 50 && !fs.existsSync(upper); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    assert.equal(fs.statSync(upper).uid, BASE);
    d.docker(['rm', '-f', 'remapped']);
  });

  test("the daemon's --init makes docker-init PID 1 unless the container says --init=false; --init-path names the binary", () => {
    assert.match(sh('cat /proc/1/cmdline | tr "\\0" " "').out, /^\/sbin\/docker-init -- sh -c/);
    assert.match(sh('cat /proc/1/cmdline | tr "\\0" " "', ['--init=false']).out, /^sh -c/);
    const own = fs.readFileSync(initPath);
    assert.notDeepEqual(own, fs.readFileSync('/usr/bin/tini-static'));
    assert.equal(sh('md5sum < /sbin/docker-init').out.split(' ')[0], crypto.createHash('md5').update(own).digest('hex'));
  });

  test('docker info reports userns among the security options and docker-init', () => {
    const info = JSON.parse(d.docker(['info', '--format', '{{json .}}']).stdout) as { SecurityOptions: string[]; InitBinary: string };
    assert.ok(info.SecurityOptions.includes('name=userns'), String(info.SecurityOptions));
    assert.equal(info.InitBinary, 'docker-init');
    const r = d.docker(['info']);
    assert.doesNotMatch(r.stderr, /No (memory limit|swap limit|oom kill disable|cpu cfs) support/i);
  });

  test('--user, volumes and workdirs get shifted ids; --userns host opts out; --privileged needs it', () => {
    assert.equal(sh('id -u; touch /w/f && echo ok', ['--user', '1000', '-w', '/w']).out, '1000\nok\n');
    assert.equal(sh('touch /data/x && echo ok', ['-v', 'unsvol:/data']).out.trim(), 'ok');
    // A volume seeded from the image keeps the image's owners as the container sees them.
    assert.equal(sh('ls -ln /etc/passwd | cut -c1-40 | tr -s " " | cut -d" " -f3,4; touch /etc/new && echo ok', ['-v', 'unsetc:/etc']).out, '0 0\nok\n');
    assert.deepEqual(sh('cat /proc/self/uid_map', ['--userns', 'host']).out.trim().split(/\s+/), ['0', '0', '4294967295']);
    const p = sh('true', ['--privileged']);
    assert.equal(p.code, 125);
    assert.match(p.err, /privileged mode is incompatible with user namespaces/);
    assert.equal(sh('true', ['--privileged', '--userns', 'host']).code, 0);
  });
});
