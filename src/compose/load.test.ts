import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, parseDotenv, startOrder, normalizeProjectName } from './load';
import { mergeValues, normalizeService, parsePort, parseVolume, shellSplit } from './normalize';
import { configHash, containerPlan } from './convert';
import type { Service } from './model';

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-load-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test('merge: maps merge, command replaces, lists append uniquely, volumes merge by target', () => {
  const base = normalizeService({ image: 'a', command: 'sh -c x', environment: ['A=1', 'B=2'], ports: ['80:80'], volumes: ['v:/data', '/h:/h'], cap_add: ['NET_ADMIN'], labels: { l: 'x' } }, '/p');
  const over = normalizeService({ command: ['echo'], environment: { B: '3', C: '4' }, ports: ['81:81', '80:80'], volumes: ['w:/data'], cap_add: ['SYS_TIME', 'NET_ADMIN'] }, '/p');
  const m = mergeValues(base, over) as Record<string, unknown>;
  assert.deepEqual(m.command, ['echo']);
  assert.deepEqual(m.environment, { A: '1', B: '3', C: '4' });
  assert.deepEqual((m.ports as { published: string }[]).map((p) => p.published), ['80', '81']);
  assert.deepEqual((m.volumes as { source: string; target: string }[]).map((v) => `${v.source}:${v.target}`), ['w:/data', '/h:/h']);
  assert.deepEqual(m.cap_add, ['NET_ADMIN', 'SYS_TIME']);
  assert.deepEqual(m.labels, { l: 'x' });
});

test('short syntaxes: ports, volumes, shell words', () => {
  assert.deepEqual(parsePort('127.0.0.1:8080:80/udp'), [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' }]);
  assert.deepEqual(parsePort('9000-9001:80-81').map((p) => `${p.published}:${p.target}`), ['9000:80', '9001:81']);
  assert.deepEqual(parsePort(3000), [{ target: 3000, protocol: 'tcp', mode: 'ingress' }]);
  assert.deepEqual(parseVolume('./d:/d:ro', '/p'), { type: 'bind', source: '/p/d', target: '/d', read_only: true, bind: { create_host_path: true } });
  assert.deepEqual(parseVolume('data:/d', '/p'), { type: 'volume', source: 'data', target: '/d', volume: {} });
  assert.deepEqual(parseVolume('/anon', '/p'), { type: 'volume', target: '/anon' });
  assert.deepEqual(shellSplit(`sh -c 'echo "a b"; x' "q\\"q" \\ z`), ['sh', '-c', 'echo "a b"; x', 'q"q', ' z']);
});

test('.env: quotes, export, comments, references', () => {
  assert.deepEqual(parseDotenv('# c\nA=1\nexport B="two words"\nC=\'$A lit\'\nD=${A}x # note\nE=\n'), { A: '1', B: 'two words', C: '$A lit', D: '1x', E: '' });
});

test('loadProject: two -f files, .env, profiles, default network, config model', () => {
  const dir = project({
    'compose.yaml': 'services:\n  web:\n    image: busybox:${TAG}\n    environment: [A=1]\n  debug:\n    image: busybox\n    profiles: [dev]\nvolumes:\n  data: {}\n',
    'override.yaml': 'services:\n  web:\n    environment:\n      B: ${B:-bee}\n    volumes: [data:/data]\n',
    '.env': 'TAG=1.36\n',
  });
  const p = loadProject({ cwd: dir, files: ['compose.yaml', 'override.yaml'], env: {} });
  assert.equal(p.name, normalizeProjectName(path.basename(dir)));
  assert.equal(p.services.web.image, 'busybox:1.36');
  assert.deepEqual(p.services.web.environment, { A: '1', B: 'bee' });
  assert.deepEqual(Object.keys(p.services), ['web']);
  assert.equal(p.networks.default.name, `${p.name}_default`);
  assert.equal(p.volumes.data.name, `${p.name}_data`);
  const withDev = loadProject({ cwd: dir, files: ['compose.yaml'], profiles: ['dev'], projectName: 'x', env: { TAG: 'env-wins' } });
  assert.deepEqual(Object.keys(withDev.services).sort(), ['debug', 'web']);
  assert.equal(withDev.services.web.image, 'busybox:env-wins');
  assert.throws(() => loadProject({ cwd: dir, projectName: 'Bad Name', env: {} }), /invalid project name/);
  fs.rmSync(dir, { recursive: true });
});

test('loadProject: extends (same and other file), include, env_file', () => {
  const dir = project({
    'compose.yaml': 'include: [sub/inc.yaml]\nservices:\n  base:\n    image: busybox\n    environment: {A: "1"}\n  child:\n    extends: base\n    environment: {B: "2"}\n  other:\n    extends: {file: common.yaml, service: tmpl}\n    env_file: vars.env\n',
    'common.yaml': 'services:\n  tmpl:\n    image: alpine\n    build: ./ctx\n',
    'vars.env': 'C=3\n',
    'sub/inc.yaml': 'services:\n  included:\n    image: inc\n    build: .\n',
  });
  const p = loadProject({ cwd: dir, env: {} });
  assert.deepEqual(p.services.child.environment, { A: '1', B: '2' });
  assert.equal(p.services.child.image, 'busybox');
  assert.equal(p.services.other.image, 'alpine');
  assert.equal(p.services.other.build?.context, path.join(dir, 'ctx'));
  assert.deepEqual(p.services.other.environment, { C: '3' });
  assert.equal(p.services.included.build?.context, path.join(dir, 'sub'));
  fs.rmSync(dir, { recursive: true });
});

test('loadProject: errors name the file and key, cycles are found', () => {
  const dir = project({
    'unknown.yaml': 'services:\n  web:\n    image: busybox\n    colour: red\n',
    'type.yaml': 'services:\n  web:\n    image: busybox\n    ports: 80\n',
    'var.yaml': 'services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n',
    'cycle.yaml': 'services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: {c: {condition: service_healthy}}}\n  c: {image: x, depends_on: [a]}\n',
    'undef.yaml': 'services:\n  a: {image: x, volumes: [nope:/x]}\n',
  });
  const err = (f: string): string => {
    try {
      loadProject({ cwd: dir, files: [f], env: {} });
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.equal(err('unknown.yaml'), `validating ${dir}/unknown.yaml: services.web additional property 'colour' is not allowed`);
  assert.equal(err('type.yaml'), `validating ${dir}/type.yaml: services.web.ports must be an array`);
  assert.equal(err('var.yaml'), `${dir}/var.yaml: services.web.image: required variable IMAGE is missing a value: set IMAGE`);
  assert.match(err('cycle.yaml'), new RegExp(`^${dir}/cycle.yaml: services\\.a\\.depends_on: dependency cycle detected: a -> b -> c -> a$`));
  assert.match(err('undef.yaml'), /services\.a\.volumes: service "a" refers to undefined volume nope/);
  fs.rmSync(dir, { recursive: true });
});

test('startOrder: dependencies first', () => {
  const svc = (deps: string[]): Service => ({ name: '', depends_on: Object.fromEntries(deps.map((d) => [d, { condition: 'service_started', required: true }])) }) as Service;
  const order = startOrder({ web: svc(['api']), api: svc(['db', 'cache']), db: svc([]), cache: svc([]), lone: svc([]) });
  assert.deepEqual(order, ['cache', 'db', 'api', 'lone', 'web']);
  assert.deepEqual(startOrder({ web: svc(['db']), db: svc([]), x: svc([]) }, ['web']), ['db', 'web']);
});

test('configHash: stable, changes with the environment, ignores replicas and build', () => {
  const a = { name: 'web', image: 'b', environment: { A: '1', B: '2' } } as Service;
  const reordered = { environment: { B: '2', A: '1' }, image: 'b', name: 'web' } as Service;
  assert.equal(configHash(a), configHash(reordered));
  assert.notEqual(configHash(a), configHash({ ...a, environment: { A: '1', B: '3' } }));
  assert.equal(configHash(a), configHash({ ...a, scale: 3, build: { context: '/x' } }));
});

test('containerPlan: labels, ports, mounts, networks, healthcheck in nanoseconds', () => {
  const dir = project({
    'compose.yaml': 'name: demo\nservices:\n  web:\n    image: busybox\n    ports: ["127.0.0.1:8080:80"]\n    volumes: [data:/data, ./html:/www:ro]\n    networks: {front: {aliases: [www]}, back: {}}\n    healthcheck: {test: "wget -q localhost", interval: 1m30s, retries: 2}\n    restart: on-failure:3\n    deploy: {resources: {limits: {memory: 64M, cpus: "0.5"}}}\n    init: true\n    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}\n    sysctls: [net.core.somaxconn=1024]\n    tmpfs: /run\n    stop_grace_period: 1m30s\n    entrypoint: /bin/sh -c\nnetworks: {front: {}, back: {}}\nvolumes: {data: {}}\n',
  });
  const p = loadProject({ cwd: dir, env: {} });
  const plan = containerPlan(p, p.services.web, { number: 1 });
  const body = plan.body as Record<string, any>;
  assert.equal(plan.name, 'demo-web-1');
  assert.equal(body.Labels['com.docker.compose.project'], 'demo');
  assert.equal(body.Labels['com.docker.compose.service'], 'web');
  assert.equal(body.Labels['com.docker.compose.container-number'], '1');
  assert.equal(body.Labels['com.docker.compose.oneoff'], 'False');
  assert.equal(body.Labels['com.docker.compose.config-hash'], configHash(p.services.web));
  assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.deepEqual(body.HostConfig.Mounts, [{ Type: 'volume', Source: 'demo_data', Target: '/data', ReadOnly: false }]);
  assert.deepEqual(body.HostConfig.Binds, [`${dir}/html:/www:ro`]);
  assert.equal(body.HostConfig.NetworkMode, 'demo_back');
  assert.deepEqual(body.NetworkingConfig.EndpointsConfig, { demo_back: { Aliases: ['web'] } });
  assert.deepEqual(plan.extraNetworks, [{ name: 'demo_front', config: { Aliases: ['web', 'www'] } }]);
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 90e9, Retries: 2 });
  assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(body.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(body.HostConfig.NanoCpus, 5e8);
  assert.equal(body.HostConfig.Init, true);
  assert.deepEqual(body.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }, { Name: 'nproc', Soft: 5, Hard: 5 }]);
  assert.deepEqual(body.HostConfig.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(body.HostConfig.Tmpfs, { '/run': '' });
  assert.equal(body.StopTimeout, 90);
  assert.deepEqual(body.Entrypoint, ['/bin/sh', '-c']);
  fs.rmSync(dir, { recursive: true });
});
