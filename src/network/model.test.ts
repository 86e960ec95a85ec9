import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addHostsEntries, hostsFile, loopbackIPv6, macFromIp, removeHostsEntries, parseExtraHosts, userNetworkResolvConf } from './model';

test('MAC from the address, as Docker did', () => {
  assert.equal(macFromIp('172.17.0.2'), '02:42:ac:11:00:02');
});

test('--add-host: both separators, host-gateway', () => {
  assert.deepEqual(parseExtraHosts(['a:1.2.3.4', 'b=5.6.7.8', 'gw:host-gateway', 'v6:::1'], '10.213.0.1'), [
    { name: 'a', ip: '1.2.3.4' },
    { name: 'b', ip: '5.6.7.8' },
    { name: 'gw', ip: '10.213.0.1' },
    { name: 'v6', ip: '::1' },
  ]);
  assert.throws(() => parseExtraHosts(['nohost'], undefined), /invalid extra host/);
});

test('/etc/hosts ends with the container itself, a line per address', () => {
  const h = hostsFile([{ name: 'x', ip: '1.1.1.1' }], { ips: ['10.0.0.2'], hostname: 'web', domainname: 'example.org' });
  assert.match(h, /^127\.0\.0\.1\tlocalhost\n/);
  assert.match(h, /1\.1\.1\.1\tx\n10\.0\.0\.2\tweb\.example\.org web\n$/);
  assert.match(hostsFile([], { ips: ['10.0.0.2', 'fd00:1::2'], hostname: 'web' }), /\n10\.0\.0\.2\tweb\nfd00:1::2\tweb\n$/);
});

test('/etc/hosts: a connected network adds the container\'s lines, a disconnected one takes exactly them away', () => {
  const self = { ips: ['10.0.0.2'], hostname: 'web' };
  const start = `${hostsFile([], self)}192.0.2.1\tadded-by-hand\n`;
  const connected = addHostsEntries(start, { ...self, ips: ['10.0.1.2', 'fd00:1::2'] });
  assert.match(connected, /added-by-hand\n10\.0\.1\.2\tweb\nfd00:1::2\tweb\n$/);
  assert.equal(removeHostsEntries(connected, { ...self, ips: ['10.0.1.2', 'fd00:1::2'] }), start);
  assert.equal(removeHostsEntries(start, { ...self, ips: ['10.0.0.20'] }), start, 'another address stays');
});

test("a user network's resolv.conf: berth's server, the host's search list, ndots:0", () => {
  const host = 'nameserver 10.255.255.53\nsearch corp.example\noptions edns0\n';
  assert.equal(userNetworkResolvConf('10.213.1.1', [], [], host), 'search corp.example\nnameserver 10.213.1.1\noptions ndots:0 edns0\n');
  assert.equal(userNetworkResolvConf('10.213.1.1', ['a.b'], ['ndots:2'], host), 'search a.b\nnameserver 10.213.1.1\noptions ndots:2\n');
});

test('/etc/hosts leaves out the IPv6 lines when a --sysctl takes ::1 off lo', () => {
  assert.equal(loopbackIPv6(undefined), true);
  assert.equal(loopbackIPv6({ 'net.ipv6.conf.all.disable_ipv6': '0' }), true);
  assert.equal(loopbackIPv6({ 'net.ipv6.conf.eth0.disable_ipv6': '1' }), true);
  assert.equal(loopbackIPv6({ 'net.ipv6.conf.all.disable_ipv6': '1' }), false);
  assert.equal(loopbackIPv6({ 'net/ipv6/conf/lo/disable_ipv6': '1' }), false);
  assert.equal(hostsFile([{ name: 'x', ip: '1.1.1.1' }], { ips: ['10.0.0.2'], hostname: 'web' }, false), '127.0.0.1\tlocalhost\n1.1.1.1\tx\n10.0.0.2\tweb\n');
  assert.match(hostsFile([], undefined), /^::1\tlocalhost ip6-localhost ip6-loopback$/m);
});
