import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains6, formatCidr6, formatIp6, last6, overlaps6, parseCidr6, parseIp6, parseProcRoutes6, ulaSubnet } from './ipv6';

test('IPv6 addresses parse and format in the RFC 5952 form', () => {
  assert.equal(parseIp6('::1'), 1n);
  assert.equal(parseIp6('::'), 0n);
  assert.equal(formatIp6(parseIp6('fd00:0:0:0:0:0:0:1')!), 'fd00::1');
  assert.equal(formatIp6(parseIp6('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIp6(parseIp6('2001:0db8:0000:0001:0000:0000:0000:0000')!), '2001:db8:0:1::');
  assert.equal(formatIp6(parseIp6('1:0:2:3:4:5:6:7')!), '1:0:2:3:4:5:6:7');
  assert.equal(formatIp6(parseIp6('::ffff:10.1.2.3')!), '::ffff:a01:203');
  assert.equal(formatIp6(parseIp6('[FD12::AB]')!), 'fd12::ab');
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3', 'fd00::g', '10.1.2.3', '', '::1:2:3:4:5:6:7:8']) assert.equal(parseIp6(bad), undefined, bad);
});

test('IPv6 prefixes: containment, overlap, last address', () => {
  const a = parseCidr6('fd00:1:2:3::5/64')!;
  assert.equal(formatCidr6(a), 'fd00:1:2:3::/64');
  assert.ok(contains6(a, parseIp6('fd00:1:2:3:ffff::1')!));
  assert.ok(!contains6(a, parseIp6('fd00:1:2:4::1')!));
  assert.ok(overlaps6(a, parseCidr6('fd00:1::/32')!));
  assert.ok(!overlaps6(a, parseCidr6('fd00:1:2:4::/64')!));
  assert.equal(formatIp6(last6(a)), 'fd00:1:2:3:ffff:ffff:ffff:ffff');
  assert.equal(parseCidr6('fd00::/129'), undefined);
  assert.equal(parseCidr6('10.0.0.0/8'), undefined);
});

test('host IPv6 routes skip default, link-local and other devices', () => {
  const text = [
    'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
    'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0',
    'fd00b000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     br-x',
  ].join('\n');
  assert.deepEqual(parseProcRoutes6(text, 'br-x').map(formatCidr6), ['fd00::/64']);
});

test('ULA subnets are /64s in fd00::/8, stable per seed', () => {
  const s = ulaSubnet('abc');
  assert.equal(s.bits, 64);
  assert.equal(s.base >> 120n, 0xfdn);
  assert.equal(formatCidr6(s), formatCidr6(ulaSubnet('abc')));
  assert.notEqual(formatCidr6(s), formatCidr6(ulaSubnet('abc', 1)));
});
