import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains, formatCidr, formatIp, overlaps, parseCidr, parseIp, parseProcRoutes } from './ipv4';

test('addresses and prefixes parse and format', () => {
  assert.equal(parseIp('10.213.0.1'), 0x0ad50001);
  assert.equal(formatIp(0xfffffffe), '255.255.255.254');
  assert.equal(parseIp('256.1.1.1'), undefined);
  assert.equal(parseIp('1.2.3'), undefined);
  assert.equal(formatCidr(parseCidr('10.1.2.3/24')!), '10.1.2.0/24');
  assert.equal(parseCidr('10.1.2.3/24', true), undefined);
  assert.equal(parseCidr('10.1.2.0/33'), undefined);
});

test('containment and overlap', () => {
  const a = parseCidr('10.213.0.0/16')!;
  const b = parseCidr('10.213.7.0/24')!;
  assert.ok(contains(b, parseIp('10.213.7.200')!));
  assert.ok(!contains(b, parseIp('10.213.8.1')!));
  assert.ok(overlaps(a, b) && overlaps(b, a));
  assert.ok(!overlaps(b, parseCidr('10.213.8.0/24')!));
  assert.ok(overlaps(parseCidr('0.0.0.0/0')!, b));
});

test('/proc/net/route: prefixes, the default route left out', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'br0\t0000D50A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n');
  assert.deepEqual(parseProcRoutes(text).map(formatCidr), ['192.0.2.0/24', '10.213.0.0/16']);
});
