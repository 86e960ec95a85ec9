/**
 * Issue 7 (runtime): cgroup limits, OOM kills, live updates, capabilities, seccomp, users,
 * --init and the namespace modes, through the real docker CLI against berthd, runc and the
 * kernel's cgroups.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { TestDaemon, integrationSkipReason, sleep } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('resources and security', { skip }, () => {
  const d = new TestDaemon('resources');
  before(async () => {
    await d.start();
    d.importBusybox();
  });
  after(async () => {
    d.docker(['rm', '-f', 'upd', 'cpu', 'pids']);
    assert.deepEqual(await d.cleanup(), []);
  });

  const sh = (script: string, extra: string[] = []): { code: number; out: string; err: string } => {
    const r = d.docker(['run', '--rm', ...extra, 'busybox', 'sh', '-c', script]);
    return { code: r.code, out: r.stdout, err: r.stderr };
  };
  const inspect = (ref: string): Record<string, any> => JSON.parse(d.docker(['inspect', ref]).stdout)[0] as Record<string, any>;
  const cgroupParent = (): string => {
    const p = fs.readdirSync('/sys/fs/cgroup/memory').find((n) => n.startsWith('berth-') && fs.existsSync(path.join('/sys/fs/cgroup/memory', n)));
    assert.ok(p);
    return p;
  };
  const cgFile = (ctrl: string, id: string, file: string): string => {
    for (const parent of fs.readdirSync(`/sys/fs/cgroup/${ctrl}`)) {
      const p = path.join('/sys/fs/cgroup', ctrl, parent, id, file);
      if (fs.existsSync(p)) return fs.readFileSync(p, 'utf8').trim();
    }
    throw new Error(`no ${ctrl} cgroup for ${id} (parent ${cgroupParent()})`);
  };

  test('--memory 32m: a process allocating 100 MB is OOM-killed (exit 137, OOMKilled, an oom event)', () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = d.docker(['run', '--name', 'oom', '--memory', '32m', 'busybox', 'sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived']);
    assert.equal(r.code, 137, r.stderr);
    assert.doesNotMatch(r.stdout, /survived/);
    const c = inspect('oom');
    assert.equal(c.State.OOMKilled, true);
    assert.equal(c.State.ExitCode, 137);
    assert.equal(c.HostConfig.Memory, 32 * 1024 * 1024);
    assert.equal(c.HostConfig.MemorySwap, 64 * 1024 * 1024);
    const until = String(Math.ceil(Date.now() / 1000) + 1);
    const ev = d.docker(['events', '--since', String(since), '--until', until, '--filter', 'container=oom', '--filter', 'event=oom', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    assert.equal(ev.stdout.trim(), 'oom oom', ev.stderr);
    // Without a limit the same command completes and OOMKilled stays false.
    const ok = d.docker(['run', '--name', 'nooom', 'busybox', 'sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(inspect('nooom').State.OOMKilled, false);
    d.docker(['rm', 'oom', 'nooom']);
  });

  test('--pids-limit 20 stops a fork loop at 20 processes; the host still forks', () => {
    const r = d.docker(['run', '-d', '--name', 'pids', '--pids-limit', '20', 'busybox', 'sh', '-c', 'sh -c "for i in \\$(seq 1 60); do sleep 30 & done"; sleep 30']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    let current = 0;
    for (let i = 0; i < 50 && current < 19; i++) {
      current = Number(cgFile('pids', id, 'pids.current'));
      if (current < 19) spawnWait(100);
    }
    assert.equal(cgFile('pids', id, 'pids.max'), '20');
    // 60 forks asked for; the loop's shell died at the limit, PID 1 may have exec'd its sleep.
    assert.ok(current === 19 || current === 20, `pids.current ${current}`);
    assert.match(d.docker(['logs', 'pids']).stderr, /can't fork/);
    // The host is unaffected: it still starts processes.
    assert.equal(spawnSync('sh', ['-c', 'for i in 1 2 3 4 5; do true & done; wait']).status, 0);
    d.docker(['rm', '-f', 'pids']);
  });

  test('--cpus 0.5 holds a busy loop near half a CPU', async () => {
    const r = d.docker(['run', '-d', '--name', 'cpu', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.equal(cgFile('cpu', id, 'cpu.cfs_quota_us'), '50000');
    assert.equal(cgFile('cpu', id, 'cpu.cfs_period_us'), '100000');
    await sleep(500);
    // Other tests share the machine's 2 CPUs: a window where the loop got less than 35% (and
    // the quota did not bind) is measured again; above 65% always fails.
    let share = 0;
    for (let attempt = 0; attempt < 4 && share <= 0.35; attempt++) {
      const u0 = Number(cgFile('cpuacct', id, 'cpuacct.usage'));
      const t0 = process.hrtime.bigint();
      await sleep(3000);
      const u1 = Number(cgFile('cpuacct', id, 'cpuacct.usage'));
      share = (u1 - u0) / Number(process.hrtime.bigint() - t0);
      console.log(`--cpus 0.5: ${(share * 100).toFixed(1)}% of one CPU (load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`);
      assert.ok(share < 0.65, `share ${share}`);
    }
    assert.ok(share > 0.35, `share ${share}`);
    assert.equal(inspect('cpu').HostConfig.NanoCpus, 500_000_000);
    d.docker(['rm', '-f', 'cpu']);
  });

  test('docker update --memory 64m changes the running container\'s limit; restart policy is stored', () => {
    const r = d.docker(['run', '-d', '--name', 'upd', '--memory', '32m', 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.equal(cgFile('memory', id, 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
    const u = d.docker(['update', '--memory', '64m', '--memory-swap', '128m', '--restart', 'on-failure:3', 'upd']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout.trim(), 'upd');
    assert.equal(cgFile('memory', id, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    assert.equal(cgFile('memory', id, 'memory.memsw.limit_in_bytes'), String(128 * 1024 * 1024));
    const c = inspect('upd');
    assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    const p = d.docker(['update', '--pids-limit', '50', '--cpus', '1.5', 'upd']);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(cgFile('pids', id, 'pids.max'), '50');
    assert.equal(cgFile('cpu', id, 'cpu.cfs_quota_us'), '150000');
    const bad = d.docker(['update', '--memory', '2m', 'upd']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
    d.docker(['rm', '-f', 'upd']);
  });

  test('the berth CLI: run with resource and security flags, update, and option errors', () => {
    const r = d.berth(['run', '-d', '--name', 'bupd', '--memory', '32m', '--cpus', '0.5', '--pids-limit', '40', '--cap-drop', 'chown', '--read-only', '--init', '--ulimit', 'nofile=100:200', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const hc = inspect('bupd').HostConfig;
    assert.deepEqual([hc.Memory, hc.NanoCpus, hc.PidsLimit, hc.CapDrop, hc.ReadonlyRootfs, hc.Init], [32 << 20, 5e8, 40, ['chown'], true, true]);
    assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 100, Hard: 200 }]);
    assert.deepEqual(hc.Sysctls, { 'net.ipv4.ip_forward': '1' });
    assert.equal(cgFile('pids', id, 'pids.max'), '40');
    const u = d.berth(['update', '--memory', '96m', '--memory-swap', '-1', '--restart', 'unless-stopped', 'bupd']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout, 'bupd\n');
    assert.equal(cgFile('memory', id, 'memory.limit_in_bytes'), String(96 << 20));
    assert.equal(inspect('bupd').HostConfig.RestartPolicy.Name, 'unless-stopped');
    assert.equal(d.berth(['update', 'bupd']).code, 1);
    const bad = d.berth(['update', '--memory', '1m', 'bupd']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
    assert.equal(d.berth(['run', '--rm', '--cpus', 'lots', 'busybox', 'true']).code, 125);
    assert.equal(d.berth(['run', '--rm', '--device', '/dev/null:/dev/n:xyz', 'busybox', 'true']).code, 125);
    // seccomp profile from a file, as the docker CLI sends it.
    const prof = path.join(d.dir, 'no-mkdir-berth.json');
    fs.writeFileSync(prof, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    assert.notEqual(d.berth(['run', '--rm', '--security-opt', `seccomp=${prof}`, 'busybox', 'mkdir', '/tmp/y']).code, 0);
    assert.equal(d.berth(['run', '--rm', '--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c', 'test -s /proc/timer_list || wc -l < /proc/timer_list']).stdout.trim() !== '0', true);
    d.docker(['rm', '-f', 'bupd']);
  });

  test("limits are validated with Docker's messages (400)", async () => {
    const cases: [string[], RegExp][] = [
      [['--memory', '4m'], /Minimum memory limit allowed is 6MB/],
      [['--memory', '64m', '--memory-swap', '32m'], /Minimum memoryswap limit should be larger than memory limit/],
      [['--memory-reservation', '64m', '--memory', '32m'], /Minimum memory limit can not be less than memory reservation limit/],
      [['--cpus', '0.5', '--cpu-period', '50000'], /Conflicting options: Nano CPUs and CPU Period cannot both be set/],
      [['--cpus', '64'], /Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available/],
      [['--cpuset-cpus', '63'], /Requested CPUs are not available - requested 63, available: /],
      [['--sysctl', 'kernel.randomize_va_space=0'], /is not allowed/],
    ];
    for (const [flags, msg] of cases) {
      const r = d.docker(['run', '--rm', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    const api = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Memory: 1000 } }));
    assert.equal(api.status, 400);
    assert.match(api.body, /Minimum memory limit allowed is 6MB/);
    const sysctl = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Sysctls: { 'kernel.randomize_va_space': '0' } } }));
    assert.equal(sysctl.status, 400);
    assert.match(sysctl.body, /not in a separate kernel namespace/);
    const hostNet = await d.request('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { NetworkMode: 'host', Sysctls: { 'net.ipv4.ip_forward': '1' } } }));
    assert.equal(hostNet.status, 400);
    assert.match(hostNet.body, /not allowed in host network namespace/);
    // Settings this kernel lacks: accepted with Docker's warning.
    const w = await d.request('POST', '/containers/create?name=blkio', JSON.stringify({ Image: 'busybox', HostConfig: { BlkioWeight: 300 } }));
    assert.equal(w.status, 201, w.body);
    assert.match(w.body, /Block I\/O weight/);
    const c = inspect('blkio');
    assert.equal(c.HostConfig.BlkioWeight, 0);
    d.docker(['rm', 'blkio']);
  });

  test('an update of a stopped container applies at its next start; apparmor and label options are accepted', () => {
    assert.equal(d.docker(['create', '--name', 'later', '--memory', '32m', 'busybox', 'sleep', '300']).code, 0);
    assert.equal(d.docker(['update', '--memory', '40m', '--memory-swap', '80m', 'later']).code, 0);
    assert.equal(d.docker(['start', 'later']).code, 0);
    const id = inspect('later').Id as string;
    assert.equal(cgFile('memory', id, 'memory.limit_in_bytes'), String(40 << 20));
    d.docker(['rm', '-f', 'later']);
    const aa = d.docker(['run', '--rm', '--security-opt', 'apparmor=unconfined', '--security-opt', 'label=disable', 'busybox', 'true']);
    assert.equal(aa.code, 0, aa.stderr);
    if (!fs.existsSync('/sys/module/apparmor/parameters/enabled')) assert.match(aa.stderr, /WARNING: AppArmor is not enabled on this host/);
    assert.equal(d.docker(['run', '--rm', '--security-opt', 'bogus=1', 'busybox', 'true']).code, 125);
  });

  test('every limit is recorded in HostConfig and applied to the cgroup', () => {
    const r = d.docker([
      'run', '-d', '--name', 'lim', '--memory', '48m', '--memory-reservation', '16m', '--cpu-shares', '512',
      '--cpu-period', '50000', '--cpu-quota', '20000', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '30',
      '--oom-kill-disable', 'busybox', 'sleep', '300',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const hc = inspect('lim').HostConfig;
    assert.equal(hc.Memory, 48 << 20);
    assert.equal(hc.MemoryReservation, 16 << 20);
    assert.equal(hc.CpuShares, 512);
    assert.equal(hc.CpuPeriod, 50000);
    assert.equal(hc.CpuQuota, 20000);
    assert.equal(hc.CpusetCpus, '0');
    assert.equal(hc.PidsLimit, 30);
    assert.equal(hc.OomKillDisable, true);
    assert.equal(cgFile('memory', id, 'memory.soft_limit_in_bytes'), String(16 << 20));
    assert.equal(cgFile('cpu', id, 'cpu.shares'), '512');
    assert.equal(cgFile('cpu', id, 'cpu.cfs_quota_us'), '20000');
    assert.equal(cgFile('cpuset', id, 'cpuset.cpus'), '0');
    assert.match(cgFile('memory', id, 'memory.oom_control'), /oom_kill_disable 1/);
    d.docker(['rm', '-f', 'lim']);
  });

  test('block I/O throttles, --cgroupns private, --cgroup-parent', () => {
    const vda = fs.readdirSync('/sys/block').find((n) => /^(vd|sd|nvme|xvd)/.test(n));
    assert.ok(vda, 'a block device');
    const [maj, min] = fs.readFileSync(`/sys/block/${vda}/dev`, 'utf8').trim().split(':');
    const t = sh('cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device', [
      '--device-read-bps', `/dev/${vda}:1mb`, '--device-write-iops', `/dev/${vda}:10`,
    ]);
    assert.equal(t.out, `${maj}:${min} 1048576\n${maj}:${min} 10\n`, t.err);
    assert.match(d.docker(['run', '--rm', '--device-read-bps', '/dev/null:1mb', 'busybox', 'true']).stderr, /is not a block device/);
    // cgroup namespace: private shows the container's cgroup as the root.
    assert.match(sh('grep memory /proc/self/cgroup', ['--cgroupns', 'private']).out, /^\d+:memory:\/$/m);
    assert.match(sh('grep memory /proc/self/cgroup').out, /^\d+:memory:\/berth-[0-9a-f]+\/[0-9a-f]{64}$/m);
    const parent = `berth-test-parent-${process.pid}`;
    try {
      assert.match(sh('grep memory /proc/self/cgroup', ['--cgroup-parent', `/${parent}`]).out, new RegExp(`^\\d+:memory:/${parent}/[0-9a-f]{64}$`, 'm'));
      assert.equal(d.docker(['run', '--rm', '--name', 'cgp', '--cgroup-parent', parent, 'busybox', 'true']).code, 0);
    } finally {
      // runc makes the parent and, as with Docker, nothing removes it: the test does.
      for (const ctrl of fs.readdirSync('/sys/fs/cgroup')) {
        const dir = path.join('/sys/fs/cgroup', ctrl, parent);
        if (fs.existsSync(dir)) fs.rmdirSync(dir);
      }
    }
  });

  test('--privileged and --cap-add ALL get the daemon\'s whole bounding set', () => {
    const bnd = /^CapBnd:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    assert.equal(sh('grep CapEff /proc/self/status', ['--privileged']).out.trim(), `CapEff:\t${bnd}`);
    assert.equal(sh('grep CapEff /proc/self/status', ['--cap-add', 'ALL']).out.trim(), `CapEff:\t${bnd}`);
    assert.equal(sh('grep CapEff /proc/self/status', ['--cap-add', 'ALL', '--cap-drop', 'sys_admin']).out.trim() !== `CapEff:\t${bnd}`, true);
  });

  test('capabilities: NET_ADMIN by --cap-add, CHOWN by --cap-drop, mount by --privileged', () => {
    assert.notEqual(sh('ip link add x0 type bridge').code, 0);
    assert.equal(sh('ip link add x0 type bridge && ip link show x0 >/dev/null', ['--cap-add', 'net_admin']).code, 0);
    assert.equal(sh('chown 1:1 /tmp').code, 0);
    const c = sh('chown 1:1 /tmp', ['--cap-drop', 'CAP_CHOWN']);
    assert.notEqual(c.code, 0);
    assert.match(c.err, /Operation not permitted/);
    assert.notEqual(sh('mkdir -p /mnt && mount -t tmpfs none /mnt').code, 0);
    const p = sh('mkdir -p /mnt && mount -t tmpfs none /mnt && grep " /mnt " /proc/mounts && ls /dev | wc -l', ['--privileged']);
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, / \/mnt tmpfs /);
    assert.ok(Number(p.out.trim().split('\n').pop()) > 20, 'host devices present');
    assert.equal(sh('grep Seccomp: /proc/self/status', ['--privileged']).out.trim(), 'Seccomp:\t0');
    assert.equal(sh('wc -c < /proc/timer_list', ['--privileged']).out.trim() !== '0', true);
  });

  test('seccomp: unshare is refused by default, allowed unconfined (with SYS_ADMIN), and a profile file applies', () => {
    assert.notEqual(sh('unshare -r true').code, 0);
    assert.equal(sh('unshare -r true', ['--security-opt', 'seccomp=unconfined']).code, 0);
    // A profile that refuses mkdir: the docker CLI reads the file and sends its content.
    const prof = path.join(d.dir, 'no-mkdir.json');
    fs.writeFileSync(prof, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
    const m = sh('mkdir /tmp/x', ['--security-opt', `seccomp=${prof}`]);
    assert.notEqual(m.code, 0);
    assert.equal(sh('mkdir /tmp/x').code, 0);
    assert.equal(sh('wc -c < /proc/keys; wc -c < /proc/timer_list').out, '0\n0\n');
    assert.notEqual(sh('wc -c < /proc/timer_list', ['--security-opt', 'systempaths=unconfined']).out.trim(), '0');
    assert.equal(sh('grep NoNewPrivs /proc/self/status', ['--security-opt', 'no-new-privileges']).out.trim(), 'NoNewPrivs:\t1');
    const ro = sh('touch /x', ['--read-only']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.err, /Read-only file system/);
    assert.equal(sh('touch /tmp/x', ['--read-only', '--tmpfs', '/tmp']).code, 0);
  });

  test('--user uid:gid and names from the image; unknown names fail as in Docker', () => {
    assert.match(sh('id', ['--user', '1000:1000']).out, /^uid=1000\b.* gid=1000\b/);
    assert.match(sh('id', ['--user', '4321:4321']).out, /^uid=4321 gid=4321/);
    assert.match(sh('id', ['--user', 'nobody']).out, /^uid=65534\(nobody\) gid=65534\b/);
    assert.equal(sh('id -G', ['--user', '1000', '--group-add', '5', '--group-add', 'nogroup']).out.trim(), '1000 5 65534');
    // As with Docker, an unknown user is an error of the daemon (exit 125 from the CLI).
    const r = d.docker(['run', '--rm', '--user', 'nosuch', 'busybox', 'true']);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /unable to find user nosuch: no matching entries in passwd file/);
  });

  test('--init: PID 1 is docker-init and reaps zombies', () => {
    const r = sh('cat /proc/1/cmdline | tr "\\0" " "; echo', ['--init']);
    assert.match(r.out, /^\/sbin\/docker-init -- sh -c/);
    // An orphan (sleep 1, its parent gone) is reparented to PID 1, which is `sleep 4` after the
    // exec: it stays a zombie unless an init reaps it. A background ps looks after 2 s.
    const script = '(sleep 2; ps -o stat,comm | grep -c "^Z") & sh -c "sleep 1 &"; exec sleep 4';
    assert.equal(sh(script, ['--init']).out.trim(), '0');
    assert.equal(sh(script).out.trim(), '1');
  });

  test('namespace modes: --pid host, --ipc host/none/shareable, --uts host; --sysctl, --ulimit, --device, --shm-size', () => {
    assert.equal(sh('test -d /proc/1/ns && cat /proc/1/comm', ['--pid', 'host']).out.trim(), fs.readFileSync('/proc/1/comm', 'utf8').trim());
    assert.equal(sh('hostname', ['--uts', 'host']).out.trim(), fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    assert.equal(d.docker(['create', '--name', 'utsh', '--uts', 'host', 'busybox']).code, 0);
    assert.equal(inspect('utsh').Config.Hostname, fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
    d.docker(['rm', 'utsh']);
    assert.match(d.docker(['run', '--rm', '--uts', 'host', '--hostname', 'x1', 'busybox', 'true']).stderr, /Conflicting options: hostname and the UTS mode/);
    const ipcHost = fs.readlinkSync('/proc/self/ns/ipc');
    assert.equal(sh('readlink /proc/self/ns/ipc', ['--ipc', 'host']).out.trim(), ipcHost);
    assert.notEqual(sh('readlink /proc/self/ns/ipc').out.trim(), ipcHost);
    assert.notEqual(sh('test -d /dev/shm', ['--ipc', 'none']).code, 0);
    const donor = d.docker(['run', '-d', '--name', 'donor', '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo hi > /dev/shm/f; sleep 300']);
    assert.equal(donor.code, 0, donor.stderr);
    assert.equal(sh('cat /dev/shm/f', ['--ipc', 'container:donor']).out.trim(), 'hi');
    assert.equal(sh('ps -o comm | grep -c "^sleep$"', ['--pid', 'container:donor']).out.trim(), '1');
    assert.equal(sh('ps -o comm | grep -c "^sleep$"').out.trim(), '0');
    d.docker(['rm', '-f', 'donor']);
    assert.equal(sh('cat /proc/sys/net/ipv4/ip_forward', ['--sysctl', 'net.ipv4.ip_forward=1']).out.trim(), '1');
    assert.equal(sh('cat /proc/sys/kernel/shmmni', ['--sysctl', 'kernel.shmmni=1234']).out.trim(), '1234');
    assert.equal(sh('ulimit -n; ulimit -Hn', ['--ulimit', 'nofile=512:1024']).out, '512\n1024\n');
    // Above the daemon's own hard limit (root here lacks CAP_SYS_RESOURCE): runc's error, as with Docker.
    const hard = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
    const over = d.docker(['run', '--rm', '--ulimit', `nofile=${hard * 2}:${hard * 2}`, 'busybox', 'true']);
    assert.equal(over.code, 125);
    assert.match(over.stderr, /error setting rlimit/);
    assert.match(sh('df -k /dev/shm | tail -1', ['--shm-size', '8m']).out, /\s8192\s/);
    const dev = sh('ls -l /dev/xnull | cut -c1; echo hi > /dev/xnull && echo ok', ['--device', '/dev/null:/dev/xnull:rw']);
    assert.equal(dev.out, 'c\nok\n');
    // loop-control (10:237) is not in the default device rules: opening a node of it needs a rule.
    const open = 'mknod /dev/lc c 10 237 && exec 3</dev/lc && echo ok';
    assert.match(sh(open).err, /Operation not permitted/);
    assert.equal(sh(open, ['--device-cgroup-rule', 'c 10:237 rwm']).out.trim(), 'ok');
  });
});

function spawnWait(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
