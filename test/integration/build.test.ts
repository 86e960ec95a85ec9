/**
 * Issue 4: Dockerfile builds through `DOCKER_BUILDKIT=0 docker build` against berthd.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, integrationSkipReason, DOCKER, type RunResult } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('docker build against berthd', { skip }, () => {
  const d = new TestDaemon('build');
  let ctxRoot: string;
  before(async () => {
    await d.start();
    d.importBusybox();
    ctxRoot = path.join(d.dir, 'contexts');
    fs.mkdirSync(ctxRoot);
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  const context = (name: string, files: Record<string, string>): string => {
    const dir = path.join(ctxRoot, name);
    for (const [f, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), content);
    }
    return dir;
  };
  const build = (dir: string, args: string[] = []): RunResult => {
    const r = spawnSync(DOCKER, ['build', ...args, dir], { env: { ...process.env, DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0' }, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const inspect = (img: string, tmpl: string): string => d.docker(['inspect', '-f', tmpl, img]).stdout.trim();

  test('every instruction: the image runs and inspect shows what the Dockerfile set', () => {
    const dir = context('all', {
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE} AS base',
        'LABEL stage=base',
        'FROM base',
        'ARG GREETING=hello',
        'ENV APP=/app WHO="the world"',
        'ENV LEGACY legacy value',
        'LABEL org.example.name="berth test" org.example.v=1',
        'MAINTAINER someone@example.com',
        'WORKDIR $APP',
        'COPY hello.txt ./',
        'COPY --chown=1000:1000 --chmod=640 dir/ ./dir/',
        'ADD archive.tar /unpacked/',
        'RUN echo "$GREETING from $WHO" > greeting',
        'SHELL ["/bin/sh", "-c"]',
        'RUN [ "$(stat -c %u:%g:%a dir/a.txt)" = "1000:1000:640" ]',
        'EXPOSE 8080 53/udp',
        'VOLUME ["/data"]',
        'USER 1000',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s --timeout=2s --retries=2 CMD true',
        'ONBUILD RUN echo onbuild-ran',
        'ENTRYPOINT ["sh", "-c"]',
        'CMD ["cat /app/greeting /app/hello.txt /unpacked/inside.txt"]',
        '',
      ].join('\n'),
      'hello.txt': 'hi there\n',
      'dir/a.txt': 'a\n',
    });
    // a tar archive for ADD to unpack
    fs.mkdirSync(path.join(d.dir, 'arc'), { recursive: true });
    fs.writeFileSync(path.join(d.dir, 'arc', 'inside.txt'), 'from the archive\n');
    spawnSync('tar', ['-C', path.join(d.dir, 'arc'), '-cf', path.join(dir, 'archive.tar'), 'inside.txt']);
    const r = build(dir, ['-t', 'all:1', '-t', 'all:2', '--label', 'from-cli=yes', '--build-arg', 'GREETING=howdy']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Step 1\/23 : FROM \$\{BASE\} AS base\n/);
    assert.match(r.stdout, /Successfully built [a-f0-9]{12}/);
    assert.match(r.stdout, /Successfully tagged all:1\nSuccessfully tagged all:2/);
    const run = d.docker(['run', '--rm', 'all:1']);
    assert.equal(run.stdout, 'howdy from the world\nhi there\nfrom the archive\n', run.stderr);
    assert.equal(inspect('all:1', '{{json .Config.Env}}'), '["APP=/app","WHO=the world","LEGACY=legacy value"]');
    assert.equal(inspect('all:1', '{{json .Config.Entrypoint}} {{json .Config.Cmd}}'), '["sh","-c"] ["cat /app/greeting /app/hello.txt /unpacked/inside.txt"]');
    assert.equal(inspect('all:1', '{{.Config.WorkingDir}} {{.Config.User}} {{.Config.StopSignal}}'), '/app 1000 SIGINT');
    assert.equal(inspect('all:1', '{{json .Config.ExposedPorts}} {{json .Config.Volumes}}'), '{"53/udp":{},"8080/tcp":{}} {"/data":{}}');
    assert.equal(inspect('all:1', '{{index .Config.Labels "org.example.name"}}|{{index .Config.Labels "stage"}}|{{index .Config.Labels "from-cli"}}'), 'berth test|base|yes');
    assert.equal(inspect('all:1', '{{json .Config.Healthcheck}}'), '{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Timeout":2000000000,"Retries":2}');
    assert.equal(inspect('all:1', '{{json .Config.OnBuild}}'), '["RUN echo onbuild-ran"]');
    // ONBUILD fires in a child build
    const child = context('child', { Dockerfile: 'FROM all:1\n' });
    const c = build(child, ['-t', 'child:1']);
    assert.equal(c.code, 0, c.stdout + c.stderr);
    assert.match(c.stdout, /onbuild-ran/);
  });

  test("ENTRYPOINT and CMD combinations give Docker's command lines", () => {
    const cases: [string, string[], string][] = [
      ['CMD ["echo", "exec-cmd"]', [], 'exec-cmd'],
      ['CMD echo shell-cmd $HOME', [], 'shell-cmd /root'],
      ['ENTRYPOINT ["echo", "ep"]', ['arg1'], 'ep arg1'],
      ['ENTRYPOINT ["echo", "ep"]\nCMD ["default"]', [], 'ep default'],
      ['ENTRYPOINT ["echo", "ep"]\nCMD ["default"]', ['override'], 'ep override'],
      ['ENTRYPOINT echo shell-ep\nCMD ["ignored"]', [], 'shell-ep'],
      ['CMD ["echo", "first"]\nCMD ["echo", "last"]', [], 'last'],
    ];
    cases.forEach(([df, args, want], i) => {
      const dir = context(`epcmd${i}`, { Dockerfile: `FROM busybox\n${df}\n` });
      const b = build(dir, ['-t', `epcmd:${i}`]);
      assert.equal(b.code, 0, b.stdout + b.stderr);
      const r = d.docker(['run', '--rm', `epcmd:${i}`, ...args]);
      assert.equal(r.stdout.trim(), want, `${df} ${args.join(' ')}`);
    });
    const r = d.docker(['run', '--rm', '--entrypoint', 'echo', 'epcmd:3', 'via', 'flag']);
    assert.equal(r.stdout.trim(), 'via flag');
  });

  test('cache: a rebuild reuses every step; mtime alone changes nothing; one changed file rebuilds from its step', () => {
    const dir = context('cache', {
      Dockerfile: 'FROM busybox\nENV A=1\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy-a\nCOPY b.txt /b.txt\nRUN cat /b.txt > /copy-b\n',
      'a.txt': 'aaa\n',
      'b.txt': 'bbb\n',
    });
    const first = build(dir, ['-t', 'cache:1']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const id1 = inspect('cache:1', '{{.Id}}');
    const again = build(dir, ['-t', 'cache:1']);
    assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 5, again.stdout);
    assert.equal(inspect('cache:1', '{{.Id}}'), id1, 'a fully cached rebuild gives the same image');
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, 'a.txt'), later, later);
    const touched = build(dir, ['-t', 'cache:1']);
    assert.equal((touched.stdout.match(/Using cache/g) ?? []).length, 5, touched.stdout);
    fs.writeFileSync(path.join(dir, 'b.txt'), 'changed\n');
    const changed = build(dir, ['-t', 'cache:1']);
    assert.equal((changed.stdout.match(/Using cache/g) ?? []).length, 3, changed.stdout);
    assert.match(changed.stdout, /Step 5\/6 : COPY b.txt \/b.txt\n ---> [a-f0-9]{12}/);
    assert.equal(d.docker(['run', '--rm', 'cache:1', 'cat', '/copy-b']).stdout, 'changed\n');
    const nocache = build(dir, ['--no-cache', '-t', 'cache:1']);
    assert.equal((nocache.stdout.match(/Using cache/g) ?? []).length, 0);
  });

  test('multi-stage: COPY --from a stage and an image, --target, independent stages run at the same time', () => {
    const dir = context('multi', {
      Dockerfile: [
        'FROM busybox AS one',
        'RUN date +%s > /start && sleep 2 && date +%s > /end && echo one > /artifact',
        'FROM busybox AS two',
        'RUN date +%s > /start && sleep 2 && date +%s > /end && echo two > /artifact',
        'FROM busybox AS final',
        'COPY --from=one /start /one-start',
        'COPY --from=one /end /one-end',
        'COPY --from=1 /start /two-start',
        'COPY --from=two /end /two-end',
        'COPY --from=one /artifact /one',
        'COPY --from=two /artifact /two',
        'COPY --from=busybox /bin/busybox /from-image',
        'CMD cat /one /two',
        '',
      ].join('\n'),
    });
    const r = build(dir, ['-t', 'multi:1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(d.docker(['run', '--rm', 'multi:1']).stdout, 'one\ntwo\n');
    const t = (f: string): number => Number(d.docker(['run', '--rm', 'multi:1', 'cat', f]).stdout.trim());
    const [s1, e1, s2, e2] = ['/one-start', '/one-end', '/two-start', '/two-end'].map(t);
    assert.ok(s1 < e2 && s2 < e1, `stages ran one after the other: one ${s1}-${e1}, two ${s2}-${e2}`);
    assert.equal(d.docker(['run', '--rm', 'multi:1', 'test', '-x', '/from-image']).code, 0);
    const target = build(dir, ['--target', 'two', '-t', 'multi:two']);
    assert.equal(target.code, 0);
    assert.doesNotMatch(target.stdout, /COPY --from=one/);
    assert.equal(d.docker(['run', '--rm', 'multi:two', 'cat', '/artifact']).stdout, 'two\n');
  });

  test('errors: syntax error names the line, a failing RUN shows its output and code, a missing COPY source is named', () => {
    const syntax = build(context('bad-syntax', { Dockerfile: 'FROM busybox\nRUN true\nFOO bar\n' }));
    assert.notEqual(syntax.code, 0);
    assert.match(syntax.stderr + syntax.stdout, /line 3|Dockerfile:3/);
    assert.match(syntax.stderr + syntax.stdout, /unknown instruction: FOO/i);
    const failing = build(context('bad-run', { Dockerfile: 'FROM busybox\nRUN echo visible-output && exit 3\n' }));
    assert.notEqual(failing.code, 0);
    assert.match(failing.stdout, /visible-output/);
    assert.match(failing.stderr + failing.stdout, /returned a non-zero code: 3/);
    const missing = build(context('bad-copy', { Dockerfile: 'FROM busybox\nCOPY nothere.txt /x\n' }));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr + missing.stdout, /nothere\.txt/);
  });
});
