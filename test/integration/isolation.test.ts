/**
 * Issue 2: Docker's default isolation inside a berth container, and what a container keeps
 * across stop/start.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { TestDaemon, integrationSkipReason } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('default isolation', { skip }, () => {
  const d = new TestDaemon('isolation');
  before(async () => {
    await d.start();
    d.importBusybox();
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  const sh = (script: string, extra: string[] = []): { code: number; out: string; err: string } => {
    const r = d.docker(['run', '--rm', ...extra, 'busybox', 'sh', '-c', script]);
    return { code: r.code, out: r.stdout, err: r.stderr };
  };

  test("capabilities are Docker's default set", () => {
    const r = sh('grep CapEff /proc/self/status');
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    assert.equal(r.out.trim(), 'CapEff:\t00000000a80425fb');
    const added = sh('grep CapEff /proc/self/status', ['--cap-add', 'SYS_ADMIN', '--cap-drop', 'NET_RAW']);
    assert.equal(added.out.trim(), 'CapEff:\t00000000a82405fb');
  });

  test('seccomp and capabilities refuse mount and unshare; the default profile is in force', () => {
    const m = sh('mkdir -p /mnt/x && mount -t tmpfs none /mnt/x && echo mounted');
    assert.notEqual(m.code, 0);
    assert.doesNotMatch(m.out, /mounted/);
    const u = sh('unshare -n true && echo unshared');
    assert.notEqual(u.code, 0);
    assert.equal(sh('grep Seccomp: /proc/self/status').out.trim(), 'Seccomp:\t2');
    assert.equal(sh('grep Seccomp: /proc/self/status', ['--security-opt', 'seccomp=unconfined']).out.trim(), 'Seccomp:\t0');
  });

  test('masked and read-only /proc paths', () => {
    // each is non-empty on the host and masked (bound to /dev/null) in the container
    assert.equal(sh('wc -c < /proc/timer_list; wc -c < /proc/interrupts').out, '0\n0\n');
    assert.equal(sh('ls /sys/firmware | wc -l').out.trim(), '0');
    const w = sh('echo 1 > /proc/sys/kernel/domainname && echo written');
    assert.doesNotMatch(w.out, /written/);
    assert.match(sh('grep " /proc/sys " /proc/self/mountinfo').out, /\bro\b/);
  });

  test('namespaces: network has only loopback with --network none, eth0 too on the default bridge; IPC and UTS are private', () => {
    assert.equal(sh('ls /sys/class/net | tr "\\n" " "', ['--network', 'none']).out.trim(), 'lo');
    assert.equal(sh('ls /sys/class/net | tr "\\n" " "', ['--dns', '127.0.0.1']).out.trim(), 'eth0 lo');
    assert.equal(sh('ip -o link show lo | grep -c UP').out.trim(), '1');
    const r = sh('hostname', ['--hostname', 'box1']);
    assert.equal(r.out.trim(), 'box1');
    assert.match(sh('cat /etc/hosts').out, /127\.0\.0\.1\s+localhost/);
    assert.equal(sh('cat /etc/resolv.conf', ['--dns', '127.0.0.1']).out.trim(), 'nameserver 127.0.0.1');
  });

  test('users, working directory and environment', () => {
    assert.equal(sh('id -u; id -g', ['-u', '1000']).out, '1000\n1000\n');
    assert.equal(sh('id -un', ['-u', 'user']).out.trim(), 'user');
    assert.equal(sh('pwd', ['-w', '/made/by/berth']).out.trim(), '/made/by/berth');
    const env = sh('echo "$HOSTNAME|$PATH|$FOO|$HOME"', ['-e', 'FOO=bar', '--hostname', 'envbox']).out.trim();
    assert.equal(env, 'envbox|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|bar|/root');
    const bad = d.docker(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unable to find user nosuchuser/);
  });

  test('the writable layer survives stop/start and is gone with rm', () => {
    assert.equal(d.docker(['run', '--name', 'keeper', 'busybox', 'sh', '-c', 'echo kept > /data.txt']).code, 0);
    assert.equal(d.docker(['start', '-a', 'keeper']).code, 0);
    const again = d.docker(['run', '--name', 'keeper2', 'busybox', 'cat', '/data.txt']);
    assert.notEqual(again.code, 0, 'another container must not see it');
    assert.equal(d.docker(['rm', 'keeper2']).code, 0);
    // the first container still has its file
    assert.equal(d.docker(['create', '--name', 'reader', 'busybox', 'true']).code, 0);
    const cp = d.docker(['inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', 'keeper']).stdout.trim();
    assert.ok(cp.length > 0);
    assert.equal(fs.readFileSync(`${cp}/data.txt`, 'utf8'), 'kept\n');
    assert.equal(d.docker(['rm', 'keeper', 'reader']).code, 0);
    assert.ok(!fs.existsSync(cp), 'rm removes the writable layer');
  });
});
