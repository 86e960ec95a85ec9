import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  findStage,
  hostPlatform,
  Instruction,
  parseDockerfile,
  parseDuration,
  parseInstruction,
  parseMount,
  parsePlatform,
  platformArgs,
  PROXY_ARGS,
  runCommandLine,
  RunInstruction,
} from './instructions';
import { expandInstruction } from './expand';
import { parse } from './parser';
import { DockerfileError } from './errors';

/** The instruction without its bookkeeping fields. */
function bare(i: Instruction): Record<string, unknown> {
  const { node: _n, original: _o, line: _l, endLine: _e, ...rest } = i;
  return rest;
}

function one(text: string): Record<string, unknown> {
  return bare(parseInstruction(parse(text).nodes[0]));
}

function failure(text: string): DockerfileError {
  try {
    parseDockerfile(text);
  } catch (err) {
    assert.ok(err instanceof DockerfileError, String(err));
    return err;
  }
  assert.fail('no error');
}

test('stages split at FROM, with names, indices, platforms and global ARGs', () => {
  const df = parseDockerfile('ARG BASE=alpine\nARG V\nFROM --platform=$BUILDPLATFORM ${BASE} AS Build\nRUN make\nFROM scratch\nCOPY --from=build /out /\nCMD ["/out"]\n');
  assert.deepEqual(
    df.globalArgs.map((a) => a.args),
    [[{ key: 'BASE', value: 'alpine' }], [{ key: 'V' }]],
  );
  assert.equal(df.stages.length, 2);
  assert.deepEqual(
    df.stages.map((s) => [s.index, s.name, s.image, s.platform, s.from.line, s.instructions.map((i) => i.kind)]),
    [
      [0, 'build', '${BASE}', '$BUILDPLATFORM', 3, ['run']],
      [1, undefined, 'scratch', undefined, 5, ['copy', 'cmd']],
    ],
  );
  assert.equal(df.escape, '\\');
  assert.equal(findStage(df.stages, 'BUILD'), df.stages[0]);
  assert.equal(findStage(df.stages, '1'), df.stages[1]);
  assert.equal(findStage(df.stages, '1', 1), undefined);
  assert.equal(findStage(df.stages, 'nope'), undefined);
});

test('instructions before the first FROM other than ARG, and reused stage names, are errors', () => {
  const e = failure('ARG a\nRUN x\nFROM b\n');
  assert.equal(e.message, 'dockerfile parse error on line 2: no build stage in current context');
  assert.equal(e.located, 'Dockerfile:2: no build stage in current context');
  assert.equal(failure('FROM a AS x\nFROM b AS X\n').message, 'dockerfile parse error on line 2: x stage name already used');
  assert.equal(failure('FROM a AS 1x\n').reason, 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  assert.equal(failure('FROM a b\n').reason, 'FROM requires either one or three arguments');
});

test('typed instructions: commands, env, labels, ports, volumes, user, workdir', () => {
  assert.deepEqual(one('RUN ["echo", "hi"]'), { kind: 'run', command: ['echo', 'hi'], shell: false, heredocs: [], mounts: [], devices: [] });
  assert.deepEqual(one('CMD echo hi'), { kind: 'cmd', command: ['echo hi'], shell: true });
  assert.deepEqual(one('ENTRYPOINT []'), { kind: 'entrypoint', command: [], shell: false });
  assert.deepEqual(one('ENV A=1 B="2 3"'), { kind: 'env', pairs: [{ key: 'A', value: '1' }, { key: 'B', value: '"2 3"' }] });
  assert.deepEqual(one('LABEL a b c'), { kind: 'label', pairs: [{ key: 'a', value: 'b c' }] });
  assert.deepEqual(one('EXPOSE 8080 443 80/udp'), { kind: 'expose', ports: ['443', '80/udp', '8080'] });
  assert.deepEqual(one('VOLUME ["/a", "/b"]'), { kind: 'volume', volumes: ['/a', '/b'] });
  assert.deepEqual(one('USER app:app'), { kind: 'user', user: 'app:app' });
  assert.deepEqual(one('WORKDIR /src'), { kind: 'workdir', path: '/src' });
  assert.deepEqual(one('STOPSIGNAL SIGKILL'), { kind: 'stopsignal', signal: 'SIGKILL' });
  assert.deepEqual(one('MAINTAINER me'), { kind: 'maintainer', maintainer: 'me' });
  assert.deepEqual(one('SHELL ["bash", "-c"]'), { kind: 'shell', shell: ['bash', '-c'] });
  assert.deepEqual(one('ARG a b=2 c='), { kind: 'arg', args: [{ key: 'a' }, { key: 'b', value: '2' }, { key: 'c', value: '' }] });
});

test('COPY and ADD: sources, destination, flags, here-document sources', () => {
  assert.deepEqual(one('COPY --from=build --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=x a "b c" /dst/'), {
    kind: 'copy',
    sources: ['a', '"b', 'c"'],
    heredocSources: [],
    dest: '/dst/',
    from: 'build',
    chown: '1:2',
    chmod: '755',
    link: true,
    parents: true,
    excludes: ['*.md', 'x'],
  });
  assert.deepEqual(one('COPY ["a b", "/c d/"]'), { kind: 'copy', sources: ['a b'], heredocSources: [], dest: '/c d/', link: false, parents: false, excludes: [] });
  assert.deepEqual(one('ADD --keep-git-dir=false --checksum=sha256:00 --unpack --link=false https://x/y.tgz /'), {
    kind: 'add',
    sources: ['https://x/y.tgz'],
    heredocSources: [],
    dest: '/',
    link: false,
    excludes: [],
    keepGitDir: false,
    checksum: 'sha256:00',
    unpack: true,
  });
  const h = parseInstruction(parse('COPY <<-EOF a /d\n\tline $X\n\tEOF\n').nodes[0]);
  assert.equal(h.kind, 'copy');
  if (h.kind === 'copy') {
    assert.deepEqual(h.sources, ['a']);
    assert.deepEqual(h.heredocSources, [{ path: 'EOF', data: 'line $X\n', expand: true }]);
    assert.equal(h.line, 1);
    assert.equal(h.endLine, 3);
  }
});

test('argument and flag errors carry Docker\'s messages and the line', () => {
  const cases: [string, string][] = [
    ['COPY a', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['ADD a', 'ADD requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['COPY a <<EOF\nx\nEOF', 'COPY cannot accept a heredoc as a destination'],
    ['COPY --form=x a b', 'unknown flag: --form (did you mean from?)'],
    ['COPY --from a b', 'missing a value on flag: --from'],
    ['COPY --from=a --from=b a b', 'duplicate flag specified: --from'],
    ['COPY --link=maybe a b', 'expecting boolean value for flag --link, not: maybe'],
    ['COPY --link= a b', 'missing a value on flag: --link'],
    ['COPY --from=$X a b', 'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround'],
    ['CMD --doit x', 'unknown flag: --doit'],
    ['USER', 'USER requires exactly one argument'],
    ['WORKDIR', 'WORKDIR requires exactly one argument'],
    ['ENV', 'ENV requires at least one argument'],
    ['ARG', 'ARG requires at least one argument'],
    ['ARG =x', 'ARG names can not be blank'],
    ['EXPOSE', 'EXPOSE requires at least one argument'],
    ['VOLUME []', 'VOLUME requires at least one argument'],
    ['VOLUME [""]', 'VOLUME specified can not be an empty string'],
    ['SHELL bash -c', 'SHELL requires the arguments to be in JSON form'],
    ['ONBUILD ONBUILD RUN x', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
    ['ONBUILD FROM x', 'FROM isn\'t allowed as an ONBUILD trigger'],
    ['ONBUILD maintainer x', 'MAINTAINER isn\'t allowed as an ONBUILD trigger'],
    ['RUN --network=bridge x', 'invalid network mode "bridge"'],
    ['RUN --security=root x', 'security "root" is not valid'],
    ['RUN --mount=type=nfs x', 'unsupported mount type "nfs"'],
  ];
  for (const [instr, reason] of cases) {
    const e = failure(`FROM a\n${instr}\n`);
    assert.equal(e.reason, reason, instr);
    assert.equal(e.line, 2, instr);
    assert.equal(e.message, `dockerfile parse error on line 2: ${reason}`);
  }
});

test('HEALTHCHECK: NONE, CMD forms, durations and retries', () => {
  assert.deepEqual(one('HEALTHCHECK NONE'), { kind: 'healthcheck', test: 'NONE' });
  assert.deepEqual(one('HEALTHCHECK CMD curl -f http://x/'), { kind: 'healthcheck', test: ['CMD-SHELL', 'curl -f http://x/'] });
  assert.deepEqual(one('HEALTHCHECK --interval=1m30s --timeout=3s --start-period=0s --start-interval=500ms --retries=3 CMD ["true"]'), {
    kind: 'healthcheck',
    test: ['CMD', 'true'],
    interval: 90e9,
    timeout: 3e9,
    startPeriod: 0,
    startInterval: 500e6,
    retries: 3,
  });
  const errors: [string, string][] = [
    ['HEALTHCHECK', 'HEALTHCHECK requires at least one argument'],
    ['HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments'],
    ['HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD'],
    ['HEALTHCHECK CONNECT TCP 7000', 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)'],
    ['HEALTHCHECK --interval=500us CMD x', 'Interval "interval" cannot be less than 1ms'],
    ['HEALTHCHECK --timeout=-1s CMD x', 'Interval "timeout" cannot be less than 1ms'],
    ['HEALTHCHECK --interval=5 CMD x', 'time: missing unit in duration "5"'],
    ['HEALTHCHECK --interval=5y CMD x', 'time: unknown unit "y" in duration "5y"'],
    ['HEALTHCHECK --retries=-1 CMD x', '--retries cannot be negative (-1)'],
    ['HEALTHCHECK --retries=x CMD x', 'strconv.ParseInt: parsing "x": invalid syntax'],
    ['HEALTHCHECK --port=1 CMD x', 'unknown flag: --port'],
  ];
  for (const [instr, reason] of errors) assert.equal(failure(`FROM a\n${instr}\n`).reason, reason, instr);
});

test('parseDuration is Go\'s time.ParseDuration in nanoseconds', () => {
  assert.equal(parseDuration('30s'), 30e9);
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('1.5h'), 5400e9);
  assert.equal(parseDuration('.5s'), 500e6);
  assert.equal(parseDuration('1h2m3s4ms5us6ns'), 3723004005006);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('-2ms'), -2e6);
  for (const bad of ['', 'abc', '1', '.s', '1d']) assert.throws(() => parseDuration(bad), Error, bad);
});

test('ONBUILD keeps the trigger expression, here-documents appended', () => {
  assert.deepEqual(one('onbuild  RUN echo "$HOME"'), { kind: 'onbuild', expression: 'RUN echo "$HOME"' });
  assert.deepEqual(one('ONBUILD RUN <<EOF\necho hi\nEOF'), { kind: 'onbuild', expression: 'RUN <<EOF\necho hi\nEOF' });
});

test('RUN: mounts, network, security, here-documents and the command they make', () => {
  const run = parseInstruction(parse('RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=type=secret,id=tok,required --network=none --security=insecure make').nodes[0]) as RunInstruction;
  assert.deepEqual(run.mounts, [
    { type: 'cache', readOnly: false, required: false, target: '/root/.cache', sharing: 'locked' },
    { type: 'secret', readOnly: true, required: true, cacheId: 'tok' },
  ]);
  assert.equal(run.network, 'none');
  assert.equal(run.security, 'insecure');

  const simple = parseInstruction(parse('RUN <<-EOF\n\techo hi\n\tEOF\n').nodes[0]) as RunInstruction;
  assert.deepEqual(runCommandLine(simple), { command: ['echo hi\n'], shell: true });
  const script = parseInstruction(parse('RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n').nodes[0]) as RunInstruction;
  assert.deepEqual(runCommandLine(script).script, { name: 'EOF', data: '#!/usr/bin/env python3\nprint(1)\n', chomp: false, expand: true });
  const piped = parseInstruction(parse('RUN cat <<A <<B > out\na\nA\nb\nB\n').nodes[0]) as RunInstruction;
  assert.deepEqual(runCommandLine(piped), { command: ['cat <<A <<B > out\na\nA\nb\nB'], shell: true });
  assert.deepEqual(runCommandLine(parseInstruction(parse('RUN ["a"]').nodes[0]) as RunInstruction), { command: ['a'], shell: false });
});

test('parseMount validates like BuildKit once values are final', () => {
  assert.deepEqual(parseMount('type=bind,source=src,target=/src,rw'), { type: 'bind', readOnly: false, required: false, source: 'src', target: '/src' });
  assert.deepEqual(parseMount('target=/x'), { type: 'bind', readOnly: true, required: false, target: '/x' });
  assert.deepEqual(parseMount('type=tmpfs,target=/t,size=64m'), { type: 'tmpfs', readOnly: false, required: false, target: '/t', sizeLimit: 64 * 1024 * 1024 });
  assert.deepEqual(parseMount('type=cache,target=/c,mode=0755,uid=1000,gid=1000,id=x'), { type: 'cache', readOnly: false, required: false, target: '/c', mode: 0o755, uid: 1000, gid: 1000, cacheId: 'x' });
  assert.throws(() => parseMount('type=bind,mode=0755'), /mode not allowed for "bind" type mounts/);
  assert.throws(() => parseMount('type=secret'), /invalid secret mount. one of source, target required/);
  assert.throws(() => parseMount('type=bind,sharing=locked'), /invalid cache sharing set for bind mount/);
  assert.throws(() => parseMount('type=bind,required'), /unexpected key 'required' for mount type 'bind'/);
  assert.throws(() => parseMount('type=cache,tagret=/x'), /unexpected key 'tagret' in 'tagret=\/x' \(did you mean target\?\)/);
  assert.throws(() => parseMount('bogus'), /invalid field 'bogus' must be a key=value pair/);
  // before substitution: values with $ are taken as written, from=$X is refused
  assert.deepEqual(parseMount('type=cache,target=$DIR,uid=$UID', true), { type: 'cache', readOnly: false, required: false, target: '$DIR' });
  assert.throws(() => parseMount('type=bind,from=$STAGE', true), /'from' doesn't support variable expansion, define alias stage instead/);
});

test('the executor\'s round trip: expand, then type again with the final values', () => {
  const df = parseDockerfile('FROM a\nENV D=/data U=1000\nRUN --mount=type=cache,target=$D,uid=$U x\nCOPY --chown=$U ["$D/a b", "${D}/"]\n');
  const env = new Map([
    ['D', '/data'],
    ['U', '1000'],
  ]);
  const [envInstr, run, copy] = df.stages[0].instructions.map((i) => parseInstruction(expandInstruction(i.node, env, { escapeChar: df.escape }), { expanded: true }));
  assert.deepEqual(bare(envInstr), { kind: 'env', pairs: [{ key: 'D', value: '/data' }, { key: 'U', value: '1000' }] });
  assert.deepEqual((run as RunInstruction).mounts, [{ type: 'cache', readOnly: false, required: false, target: '/data', uid: 1000 }]);
  assert.deepEqual(bare(copy), { kind: 'copy', sources: ['/data/a b'], heredocSources: [], dest: '/data/', chown: '1000', link: false, parents: false, excludes: [] });
  assert.throws(() => parseInstruction(expandInstruction(df.stages[0].instructions[1].node, new Map([['U', 'x']])), { expanded: true, fileName: 'Dockerfile.dev' }), {
    message: 'dockerfile parse error on line 3: invalid value x for uid',
  });
});

test('predefined ARGs: proxies and the platform ARGs', () => {
  assert.deepEqual([...PROXY_ARGS], ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
  const args = platformArgs(parsePlatform('linux/arm/v7'), parsePlatform('linux/amd64'));
  assert.deepEqual(Object.fromEntries(args), {
    BUILDPLATFORM: 'linux/amd64',
    BUILDOS: 'linux',
    BUILDARCH: 'amd64',
    BUILDVARIANT: '',
    TARGETPLATFORM: 'linux/arm/v7',
    TARGETOS: 'linux',
    TARGETARCH: 'arm',
    TARGETVARIANT: 'v7',
    TARGETSTAGE: 'default',
  });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(hostPlatform().os, 'linux');
  assert.equal(platformArgs(undefined, undefined, 'build').get('TARGETSTAGE'), 'build');
});
