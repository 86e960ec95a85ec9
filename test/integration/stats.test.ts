/**
 * Issue 6: stats and top through the docker CLI and berth against a real berthd.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, integrationSkipReason, waitFor, type RunResult } from '../helpers/daemon';

const skip = integrationSkipReason();
const MiB = 1024 * 1024;

/** "41.2MiB" → bytes (units.BytesSize's output). */
function parseBinary(s: string): number {
  const m = /^([\d.]+)([KMGT]?i?B)$/.exec(s.trim());
  assert.ok(m, `not a size: ${s}`);
  const mul: Record<string, number> = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB, TiB: 1024 * 1024 * MiB };
  return Number(m[1]) * mul[m[2]];
}

describe('stats and top', { skip }, () => {
  const d = new TestDaemon('stats');
  let cgroupsPath = '';
  let id = '';
  before(async () => {
    await d.start();
    d.importBusybox();
    // 40 MiB in /dev/shm (a tmpfs charged to the container's memory cgroup), then idle.
    const r = d.docker(['run', '-d', '--name', 'mem', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 && touch /tmp/ready && sleep 600']);
    assert.equal(r.code, 0, r.stderr);
    id = r.stdout.trim();
    await waitFor(() => fs.existsSync(path.join(d.dataRoot, 'containers', id, 'upper', 'tmp', 'ready')), 30_000, 'the fill');
    const spec = JSON.parse(fs.readFileSync(path.join(d.dataRoot, 'containers', id, 'config.json'), 'utf8')) as { linux: { cgroupsPath: string } };
    cgroupsPath = spec.linux.cgroupsPath;
  });
  after(async () => {
    d.docker(['rm', '-f', 'mem', 'busy', 'tops']);
    const leaks = await d.cleanup();
    assert.deepEqual(leaks, [], 'the daemon left things behind');
  });

  /** The cgroup's own figure: usage minus inactive file pages (v1). */
  function cgroupMemory(): number {
    const dir = path.join('/sys/fs/cgroup/memory', cgroupsPath);
    const usage = Number(fs.readFileSync(path.join(dir, 'memory.usage_in_bytes'), 'utf8'));
    const stat = fs.readFileSync(path.join(dir, 'memory.stat'), 'utf8');
    const inactive = Number(/^total_inactive_file (\d+)$/m.exec(stat)![1]);
    return usage - inactive;
  }

  for (const cli of ['docker', 'berth'] as const) {
    const run = (args: string[]): RunResult => (cli === 'docker' ? d.docker(args) : d.berth(args));

    test(`${cli}: stats --no-stream shows the cgroup's memory figure (within 10%)`, () => {
      const r = run(['stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.MemPerc}}|{{.PIDs}}', 'mem']);
      const cg = cgroupMemory();
      assert.equal(r.code, 0, r.stderr);
      const [name, mem, perc, pids] = r.stdout.trim().split('|');
      assert.equal(name, 'mem');
      const [usage, limit] = mem.split(' / ').map(parseBinary);
      assert.ok(usage >= 40 * MiB, `usage ${usage} below the 40 MiB written`);
      assert.ok(Math.abs(usage - cg) <= cg * 0.1, `stats ${usage} vs cgroup ${cg}`);
      assert.ok(limit > usage, `limit ${limit}`);
      assert.match(perc, /^\d+\.\d\d%$/);
      assert.equal(pids, '1');
    });

    test(`${cli}: the default table has docker's columns`, () => {
      const r = run(['stats', '--no-stream', 'mem']);
      assert.equal(r.code, 0, r.stderr);
      const [header, row] = r.stdout.trim().split('\n');
      assert.match(header, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
      assert.match(row, new RegExp(`^${id.slice(0, 12)}\\s+mem\\s+\\d+\\.\\d\\d%\\s+[\\d.]+MiB / [\\d.]+[MG]iB\\s+[\\d.]+%\\s+\\S+ / \\S+\\s+\\S+ / \\S+\\s+1$`));
    });
  }

  test('the API JSON carries the fields Docker sends, with plausible values', async () => {
    const r = await d.request('GET', '/v1.41/containers/mem/stats?stream=false');
    assert.equal(r.status, 200, r.body);
    const s = JSON.parse(r.body);
    assert.equal(s.id, id);
    assert.equal(s.name, '/mem');
    assert.ok(Date.parse(s.read) > Date.parse(s.preread), 'read after preread');
    assert.ok(s.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(s.cpu_stats.cpu_usage.total_usage >= s.precpu_stats.cpu_usage.total_usage);
    assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage);
    assert.equal(s.cpu_stats.online_cpus, s.cpu_stats.cpu_usage.percpu_usage.length);
    assert.ok('usage_in_kernelmode' in s.cpu_stats.cpu_usage && 'usage_in_usermode' in s.cpu_stats.cpu_usage);
    assert.deepEqual(Object.keys(s.cpu_stats.throttling_data).sort(), ['periods', 'throttled_periods', 'throttled_time']);
    assert.ok(s.memory_stats.usage >= 40 * MiB);
    assert.ok(typeof s.memory_stats.stats.total_inactive_file === 'number');
    assert.ok(s.memory_stats.stats.shmem >= 40 * MiB, 'the tmpfs pages are shmem');
    assert.ok(s.memory_stats.limit > 0);
    assert.equal(s.pids_stats.current, 1);
    assert.ok(Array.isArray(s.blkio_stats.io_service_bytes_recursive));
    assert.ok(s.networks.eth0, 'the container interface');
    assert.ok(s.networks.eth0.rx_packets >= 0 && 'tx_dropped' in s.networks.eth0);
    assert.equal(s.networks.lo, undefined);

    const one = await d.request('GET', '/v1.41/containers/mem/stats?stream=false&one-shot=true');
    assert.equal(JSON.parse(one.body).preread, '0001-01-01T00:00:00Z');
    const none = await d.request('GET', '/v1.41/containers/nosuch/stats?stream=false');
    assert.equal(none.status, 404);
  });

  test('stream=true sends one sample per second with the previous one as pre*', async () => {
    const http = await import('node:http');
    const samples = await new Promise<any[]>((resolve, reject) => {
      const out: any[] = [];
      const req = http.request({ socketPath: d.socket, path: '/v1.41/containers/mem/stats' }, (res) => {
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) out.push(JSON.parse(l));
          if (out.length >= 3) {
            req.destroy();
            resolve(out);
          }
        });
      });
      req.on('error', (e) => (out.length >= 3 ? undefined : reject(e)));
      req.end();
    });
    assert.equal(samples[1].preread, samples[0].read);
    assert.equal(samples[2].precpu_stats.cpu_usage.total_usage, samples[1].cpu_stats.cpu_usage.total_usage);
  });

  test('a busy container shows CPU % above 10 (docker CLI and berth)', async () => {
    assert.equal(d.docker(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done']).code, 0);
    await new Promise((r) => setTimeout(r, 1000));
    for (const r of [d.docker(['stats', '--no-stream', '--format', '{{.CPUPerc}}', 'busy']), d.berth(['stats', '--no-stream', '--format', '{{.CPUPerc}}', 'busy'])]) {
      assert.equal(r.code, 0, r.stderr);
      const cpu = Number(r.stdout.trim().replace('%', ''));
      assert.ok(cpu > 10, `CPU ${r.stdout.trim()}`);
    }
    assert.equal(d.docker(['rm', '-f', 'busy']).code, 0);
  });

  test('stats --all lists stopped containers with zeros; without --all only running ones', () => {
    assert.equal(d.docker(['create', '--name', 'stopped', 'busybox', 'true']).code, 0);
    const all = d.berth(['stats', '--no-stream', '--all', '--format', '{{.Name}} {{.CPUPerc}} {{.PIDs}}']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^stopped 0\.00% 0$/m);
    assert.match(all.stdout, /^mem \d+\.\d\d% 1$/m);
    const running = d.berth(['stats', '--no-stream', '--format', '{{.Name}}']);
    assert.equal(running.code, 0, running.stderr);
    assert.ok(!running.stdout.includes('stopped'));
    const dockerAll = d.docker(['stats', '--no-stream', '--all', '--format', '{{.Name}}']);
    assert.equal(dockerAll.code, 0, dockerAll.stderr);
    assert.match(dockerAll.stdout, /^stopped$/m);
    assert.equal(d.docker(['rm', 'stopped']).code, 0);
  });

  for (const cli of ['docker', 'berth'] as const) {
    test(`${cli}: top shows the container's processes only, with ps options`, () => {
      const run = (args: string[]): RunResult => (cli === 'docker' ? d.docker(args) : d.berth(args));
      assert.equal(run(['run', '-d', '--name', 'tops', 'busybox', 'sh', '-c', 'sleep 601 & sleep 602 & wait']).code, 0);
      let r = run(['top', 'tops']);
      for (let i = 0; i < 50 && (r.code !== 0 || !/sleep 601/.test(r.stdout) || !/sleep 602/.test(r.stdout)); i++) r = run(['top', 'tops']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(lines[0], /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
      const cmds = lines.slice(1).map((l) => l.split(/\s+/).slice(7).join(' '));
      assert.deepEqual(cmds.sort(), ['sh -c sleep 601 & sleep 602 & wait', 'sleep 601', 'sleep 602']);
      const withArgs = run(['top', 'tops', '-o', 'pid,comm']);
      assert.equal(withArgs.code, 0, withArgs.stderr);
      const rows = withArgs.stdout.trim().split('\n');
      assert.match(rows[0], /^PID\s+COMMAND$/);
      assert.deepEqual(rows.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort(), ['sh', 'sleep', 'sleep']);
      assert.equal(run(['rm', '-f', 'tops']).code, 0);
      assert.equal(run(['create', '--name', 'tops', 'busybox', 'true']).code, 0);
      const stopped = run(['top', 'tops']);
      assert.notEqual(stopped.code, 0);
      assert.match(stopped.stderr, /is not running/);
      assert.equal(run(['rm', 'tops']).code, 0);
    });
  }
});
