import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../flags';
import { CONTAINER_FLAGS, buildCreateRequest } from './container-opts';

const io = { readFile: (): string => '', env: {} };
const build = (argv: string[]) => {
  const f = parseFlags(argv, CONTAINER_FLAGS, { interspersed: false });
  return buildCreateRequest(f, f.args, true, io).body as Record<string, any>;
};

test('networking flags go where the docker CLI (API 1.41) puts them', () => {
  const b = build([
    '--network', 'net1', '--ip', '10.1.0.5', '--network-alias', 'a1', '--network-alias', 'a2', '--mac-address', '02:42:00:00:00:01',
    '-p', '127.0.0.1:8080:80', '-p', '53:53/udp', '--expose', '9000-9001', '-P', '--dns', '1.1.1.1', '--dns-search', 'ex.org', '--dns-option', 'ndots:2',
    '--add-host', 'h:1.2.3.4', '--domainname', 'dom', 'busybox',
  ]);
  assert.equal(b.HostConfig.NetworkMode, 'net1');
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: { net1: { IPAMConfig: { IPv4Address: '10.1.0.5' }, Aliases: ['a1', 'a2'] } } });
  assert.equal(b.MacAddress, '02:42:00:00:00:01');
  assert.equal(b.Domainname, 'dom');
  assert.deepEqual(b.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '53' }] });
  assert.deepEqual(Object.keys(b.ExposedPorts).sort(), ['53/udp', '80/tcp', '9000/tcp', '9001/tcp']);
  assert.equal(b.HostConfig.PublishAllPorts, true);
  assert.deepEqual([b.HostConfig.Dns, b.HostConfig.DnsSearch, b.HostConfig.DnsOptions, b.HostConfig.ExtraHosts], [['1.1.1.1'], ['ex.org'], ['ndots:2'], ['h:1.2.3.4']]);
  // nothing networking-specific unless asked for
  const plain = build(['busybox']);
  assert.equal(plain.NetworkingConfig, undefined);
  assert.equal(plain.ExposedPorts, undefined);
  assert.equal(plain.HostConfig.PortBindings, undefined);
});

test('bad -p and --add-host values are flag errors', () => {
  assert.throws(() => build(['-p', '80/xyz', 'busybox']), /invalid proto/);
  assert.throws(() => build(['--add-host', 'nohost', 'busybox']), /bad format for add-host/);
});
