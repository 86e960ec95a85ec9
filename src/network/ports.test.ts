import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { holdPorts, portRequests } from './ports';
import { exposeOptions, parsePortSpec, publishOptions } from './portspec';

test('-p values as the docker CLI parses them', () => {
  assert.deepEqual(parsePortSpec('80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '' } }]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80/udp'), [{ port: '80/udp', binding: { HostIp: '127.0.0.1', HostPort: '8080' } }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ port: '80/tcp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
  assert.deepEqual(
    parsePortSpec('8000-8001:80-81').map((x) => `${x.binding.HostPort}->${x.port}`),
    ['8000->80/tcp', '8001->81/tcp'],
  );
  assert.deepEqual(parsePortSpec('8000-8010:80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '8000-8010' } }]);
  assert.throws(() => parsePortSpec('8000-8002:80-81'), /invalid ranges/);
  assert.throws(() => parsePortSpec('80/xyz'), /invalid proto/);
  assert.throws(() => parsePortSpec('99999'), /invalid containerPort/);
  const o = publishOptions(['8080:80', '9090:80']);
  assert.deepEqual(o.bindings['80/tcp'].map((b) => b.HostPort), ['8080', '9090']);
  assert.deepEqual(Object.keys(exposeOptions(['7000-7001/udp'])), ['7000/udp', '7001/udp']);
});

test('port requests: bindings, then -P for the other exposed ports', () => {
  const r = portRequests({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostPort: '' }] }, { '80/tcp': {}, '443/tcp': {}, '53/udp': {} }, true);
  assert.deepEqual(
    r.map((x) => `${x.hostIp}:${x.hostPortStart}-${x.hostPortEnd}->${x.containerPort}/${x.proto}`),
    [':0-0->53/udp', '127.0.0.1:8080-8080->80/tcp', ':0-0->443/tcp'],
  );
  assert.throws(() => portRequests({ '80/tcp': [{ HostPort: 'abc' }] }, {}, false), /invalid hostPort/);
});

test('holding ports: a taken port is "already allocated" and nothing stays held', async () => {
  const other = net.createServer();
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  const taken = (other.address() as net.AddressInfo).port;
  try {
    await assert.rejects(
      holdPorts(
        [
          { proto: 'tcp', containerPort: 1, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 },
          { proto: 'tcp', containerPort: 2, hostIp: '127.0.0.1', hostPortStart: taken, hostPortEnd: taken },
        ],
        () => undefined,
      ),
      new RegExp(`Bind for 127.0.0.1:${taken} failed: port is already allocated`),
    );
    const held = await holdPorts([{ proto: 'udp', containerPort: 53, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 }], () => undefined);
    assert.ok(held[0].mapping.hostPort > 0);
    for (const h of held) h.close();
  } finally {
    other.close();
  }
});
