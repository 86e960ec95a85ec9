/**
 * Issue 6: log rotation, since/until, details and log drivers through the docker CLI and berth.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { integrationSkipReason, waitFor, DOCKER, type RunResult } from '../helpers/daemon';
import { busyboxDaemon } from '../helpers/suite';

const skip = integrationSkipReason();

/** 1000 lines of 100 bytes ("line 00000 xxx...") = 100 KB, in bursts of 50 lines. */
const PRINT_100K =
  'sleep 1; i=0; while [ $i -lt 1000 ]; do printf "line %05d %088d\\n" $i 0; i=$((i+1)); [ $((i % 50)) -eq 0 ] && sleep 0.1; done; true';

function lineNumbers(out: string): number[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^line (\d{5}) 0{88}$/.exec(l);
      assert.ok(m, `unexpected line: ${JSON.stringify(l)}`);
      return Number(m[1]);
    });
}

function assertContiguous(nums: number[], last: number): void {
  assert.ok(nums.length > 0);
  assert.equal(nums[nums.length - 1], last);
  for (let i = 1; i < nums.length; i++) assert.equal(nums[i], nums[i - 1] + 1, `gap or disorder at ${nums[i - 1]} → ${nums[i]}`);
}

describe('logs: rotation, since/until, details, drivers', { skip }, () => {
  const d = busyboxDaemon('logs');

  const logFilesOf = (id: string): string[] =>
    fs
      .readdirSync(path.join(d.dataRoot, 'containers', id))
      .filter((n) => /^container\.log(\.\d+)?$/.test(n))
      .sort();

  test('max-size=10k max-file=3: at most 3 files; logs shows the newest lines in order; logs -f follows across rotations', async () => {
    const r = d.docker(['run', '-d', '--name', 'rot', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', PRINT_100K]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    // A follower from the start sees every line, across all the rotations.
    const follow = new Promise<string>((resolve) => {
      const p = spawn(DOCKER, ['logs', '-f', 'rot'], { env: { ...process.env, DOCKER_HOST: d.host } });
      let out = '';
      p.stdout.on('data', (c) => (out += c));
      p.on('close', () => resolve(out));
    });
    let maxFiles = 0;
    const watch = setInterval(() => (maxFiles = Math.max(maxFiles, logFilesOf(id).length)), 20);
    assert.equal((await d.dockerAsync(['wait', 'rot'])).stdout.trim(), '0');
    clearInterval(watch);
    const files = logFilesOf(id);
    assert.ok(files.length <= 3 && maxFiles <= 3, `files: ${files.join(' ')} (at most ${maxFiles} seen)`);
    assert.ok(files.length >= 2, `rotated: ${files.join(' ')}`);
    for (const cli of ['docker', 'berth'] as const) {
      const l: RunResult = cli === 'docker' ? d.docker(['logs', 'rot']) : d.berth(['logs', 'rot']);
      assert.equal(l.code, 0, l.stderr);
      const nums = lineNumbers(l.stdout);
      assertContiguous(nums, 999);
      assert.ok(nums[0] > 0, 'the oldest lines were rotated away');
      assert.ok(nums.length >= 100, `only ${nums.length} lines kept`);
    }
    const tail = d.docker(['logs', '--tail', '5', 'rot']);
    assert.deepEqual(lineNumbers(tail.stdout), [995, 996, 997, 998, 999]);
    const followed = lineNumbers(await follow);
    assert.equal(followed[0], 0);
    assertContiguous(followed, 999);
    assert.equal(d.docker(['rm', 'rot']).code, 0);
  });

  test('rotation resumes after a kill -9 of berthd (the container keeps printing meanwhile)', async () => {
    const script = 'i=0; while [ $i -lt 1000 ]; do printf "line %05d %088d\\n" $i 0; i=$((i+1)); [ $((i % 50)) -eq 0 ] && sleep 0.1; [ $i -eq 300 ] && sleep 4; done; true';
    const r = d.docker(['run', '-d', '--name', 'rot2', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    await waitFor(() => /line 00299/.test(d.docker(['logs', '--tail', '1', 'rot2']).stdout), 30_000, 'the first 300 lines');
    await d.crash();
    await d.start();
    assert.equal((await d.dockerAsync(['wait', 'rot2'])).stdout.trim(), '0');
    const files = logFilesOf(id);
    assert.ok(files.length <= 3 && files.length >= 2, `files: ${files.join(' ')}`);
    const nums = lineNumbers(d.docker(['logs', 'rot2']).stdout);
    assertContiguous(nums, 999);
    assert.ok(nums[0] > 300, `rotated after the restart too (first line ${nums[0]})`);
    assert.equal(d.docker(['rm', 'rot2']).code, 0);
  });

  test('--since/--until: RFC 3339, unix seconds with fraction, relative; API and both CLIs', async () => {
    const r = d.docker(['run', '-d', '--name', 'times', 'busybox', 'sh', '-c', 'echo a; sleep 1.5; echo b; sleep 1.5; echo c']);
    assert.equal(r.code, 0, r.stderr);
    await d.dockerAsync(['wait', 'times']);
    const ts = d.docker(['logs', '-t', 'times']).stdout.trim().split('\n');
    assert.equal(ts.length, 3);
    const stamps = ts.map((l) => l.split(' ')[0]);
    assert.match(stamps[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const b = stamps[1];
    const bUnix = `${Math.floor(Date.parse(b) / 1000)}.${b.slice(20, 29)}`;
    for (const cli of ['docker', 'berth'] as const) {
      const run = (args: string[]): string => {
        const x = cli === 'docker' ? d.docker(args) : d.berth(args);
        assert.equal(x.code, 0, x.stderr);
        return x.stdout;
      };
      assert.equal(run(['logs', '--since', b, 'times']), 'b\nc\n');
      assert.equal(run(['logs', '--until', b, 'times']), 'a\nb\n');
      assert.equal(run(['logs', '--since', bUnix, 'times']), 'b\nc\n');
      assert.equal(run(['logs', '--since', bUnix, '--until', bUnix, 'times']), 'b\n');
      assert.equal(run(['logs', '--since', '1h', 'times']), 'a\nb\nc\n');
      assert.equal(run(['logs', '--until', '1h', 'times']), '');
      assert.equal(run(['logs', '--since', '1h30m', '--until', '2099-01-01T00:00:00Z', 'times']), 'a\nb\nc\n');
    }
    // The API takes the same forms (the CLIs send unix seconds).
    const api = async (q: string): Promise<string> => {
      const res = await d.request('GET', `/v1.41/containers/times/logs?stdout=1&${q}`);
      assert.equal(res.status, 200, res.body);
      return res.body.replace(/[\x00-\x02]\x00\x00\x00[\s\S]{4}/g, '');
    };
    assert.equal(await api(`since=${encodeURIComponent(b)}`), 'b\nc\n');
    assert.equal(await api('since=10m'), 'a\nb\nc\n');
    assert.equal(await api(`until=${bUnix}`), 'a\nb\n');
    const bad = await d.request('GET', '/v1.41/containers/times/logs?stdout=1&since=yesterday');
    assert.equal(bad.status, 400);
    const badCli = d.docker(['logs', '--since', 'yesterday', 'times']);
    assert.notEqual(badCli.code, 0);
    assert.equal(d.docker(['rm', 'times']).code, 0);
  });

  test('--details shows the labels and env named by log-opts; without them a bare space', async () => {
    const r = d.docker(['run', '-d', '--name', 'det', '--label', 'team=ops', '--label', 'other=x', '-e', 'FOO=bar', '--log-opt', 'labels=team', '--log-opt', 'env=FOO', 'busybox', 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    await d.dockerAsync(['wait', 'det']);
    assert.equal(d.docker(['logs', '--details', 'det']).stdout, 'FOO=bar,team=ops hello\n');
    assert.equal(d.berth(['logs', '--details', 'det']).stdout, 'FOO=bar,team=ops hello\n');
    assert.equal(d.docker(['logs', 'det']).stdout, 'hello\n');
    const t = d.docker(['logs', '--details', '-t', 'det']).stdout;
    assert.match(t, /^\S+Z FOO=bar,team=ops hello\n$/);
    assert.equal(d.docker(['run', '--name', 'det2', 'busybox', 'echo', 'plain']).code, 0);
    assert.equal(d.docker(['logs', '--details', 'det2']).stdout, ' plain\n');
    assert.equal(d.docker(['rm', 'det', 'det2']).code, 0);
  });

  test('--log-driver none: no logs to read (Docker\'s error), attach still prints; local and json-file are accepted', async () => {
    for (const cli of ['docker', 'berth'] as const) {
      const run = (args: string[]): RunResult => (cli === 'docker' ? d.docker(args) : d.berth(args));
      const att = run(['run', '--rm', '--log-driver', 'none', 'busybox', 'echo', 'attached']);
      assert.equal(att.code, 0, att.stderr);
      assert.equal(att.stdout, 'attached\n');
      assert.equal(run(['run', '--name', `none-${cli}`, '--log-driver', 'none', 'busybox', 'echo', 'hi']).code, 0);
      const l = run(['logs', `none-${cli}`]);
      assert.notEqual(l.code, 0);
      assert.match(l.stderr, /configured logging driver does not support reading/);
      assert.equal(run(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', `none-${cli}`]).stdout.trim(), 'none');
      assert.equal(run(['rm', `none-${cli}`]).code, 0);
      for (const driver of ['local', 'json-file']) {
        const x = run(['run', '--name', `drv-${cli}`, '--log-driver', driver, 'busybox', 'echo', driver]);
        assert.equal(x.code, 0, x.stderr);
        assert.equal(run(['logs', `drv-${cli}`]).stdout, `${driver}\n`);
        assert.equal(run(['rm', `drv-${cli}`]).code, 0);
      }
    }
  });

  test('LogConfig is validated: unknown driver, unknown option, bad max-size, bad max-file → 400 / exit 125', async () => {
    for (const cli of ['docker', 'berth'] as const) {
      const run = (args: string[]): RunResult => (cli === 'docker' ? d.docker(args) : d.berth(args));
      const cases: [string[], RegExp][] = [
        [['--log-driver', 'nosuch'], /no log driver named 'nosuch' is registered/],
        [['--log-opt', 'max-size=abc'], /invalid size: 'abc'/],
        [['--log-opt', 'max-size=10k', '--log-opt', 'max-file=0'], /max-file cannot be less than 1/],
        [['--log-opt', 'colour=blue'], /unknown log opt 'colour' for json-file log driver/],
      ];
      for (const [opts, msg] of cases) {
        const x = run(['run', '--rm', ...opts, 'busybox', 'true']);
        assert.equal(x.code, 125, `${opts.join(' ')}: ${x.stderr}`);
        assert.match(x.stderr, msg);
      }
    }
    const res = await d.request('POST', '/v1.41/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '-5' } } } }));
    assert.equal(res.status, 400, res.body);
  });
});
