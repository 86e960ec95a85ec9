import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Ipam, chooseSubnet } from './ipam';
import { formatCidr, parseCidr, parseIp } from './ipv4';
import { parseCidr6, parseIp6 } from './ipv6';
import { isKind } from '../core/errors';

const pool = (s: string, gw: string, range?: string) => ({ subnet: parseCidr(s)!, gateway: parseIp(gw)!, range: range ? parseCidr(range) : undefined });

test('subnets: the first free /24 from the start offset, skipping what overlaps', () => {
  const p = parseCidr('10.213.0.0/16')!;
  assert.equal(formatCidr(chooseSubnet(p, 24, [])!), '10.213.0.0/24');
  assert.equal(formatCidr(chooseSubnet(p, 24, [parseCidr('10.213.0.0/23')!])!), '10.213.2.0/24');
  assert.equal(formatCidr(chooseSubnet(p, 24, [], 255)!), '10.213.255.0/24');
  assert.equal(formatCidr(chooseSubnet(p, 24, [parseCidr('10.213.255.0/24')!], 255)!), '10.213.0.0/24');
  assert.equal(chooseSubnet(p, 24, [parseCidr('10.0.0.0/8')!]), undefined);
});

test('leases: lowest free address, never network, gateway or broadcast; released per owner', () => {
  const ipam = new Ipam(new Database(':memory:'));
  const p = pool('10.9.0.0/30', '10.9.0.1');
  assert.equal(ipam.allocate('n', p, 'c1'), '10.9.0.2');
  assert.throws(() => ipam.allocate('n', p, 'c2'), (e) => isKind(e, 'unavailable'));
  ipam.release('n', 'c1');
  assert.equal(ipam.allocate('n', p, 'c2'), '10.9.0.2');
  assert.equal(ipam.allocate('other', p, 'c2'), '10.9.0.2', 'networks are independent');
  ipam.releaseOwner('c2');
  assert.deepEqual(ipam.owners(), []);
});

test('leases: a requested address must be free and in the subnet; ranges bound dynamic ones', () => {
  const ipam = new Ipam(new Database(':memory:'));
  const p = pool('10.9.0.0/24', '10.9.0.254', '10.9.0.128/25');
  assert.equal(ipam.allocate('n', p, 'a'), '10.9.0.128');
  assert.equal(ipam.allocate('n', p, 'b', '10.9.0.5'), '10.9.0.5');
  assert.throws(() => ipam.allocate('n', p, 'c', '10.9.0.5'), /Address already in use/);
  assert.throws(() => ipam.allocate('n', p, 'c', '10.9.0.254'), /Address already in use/);
  assert.throws(() => ipam.allocate('n', p, 'c', '10.9.1.5'), /does not belong/);
  assert.deepEqual(ipam.leases('n'), [
    { ip: '10.9.0.128', owner: 'a' },
    { ip: '10.9.0.5', owner: 'b' },
  ]);
});

test('IPv6 leases: lowest free after the prefix and the gateway; requested ones checked; released with the v4 ones', () => {
  const ipam = new Ipam(new Database(':memory:'));
  const p6 = { subnet: parseCidr6('fd00:b::/64')!, gateway: parseIp6('fd00:b::1')! };
  assert.equal(ipam.allocate6('n', p6, 'a'), 'fd00:b::2');
  assert.equal(ipam.allocate6('n', p6, 'b', 'fd00:b:0:0::0a'), 'fd00:b::a');
  assert.equal(ipam.allocate6('n', p6, 'c'), 'fd00:b::3');
  assert.throws(() => ipam.allocate6('n', p6, 'd', 'fd00:b::1'), /Address already in use/);
  assert.throws(() => ipam.allocate6('n', p6, 'd', 'fd00:c::1'), /does not belong/);
  assert.throws(() => ipam.allocate6('n', p6, 'd', '10.0.0.1'), /invalid IPv6 address/);
  ipam.allocate('n', pool('10.9.0.0/24', '10.9.0.1'), 'a');
  ipam.release('n', 'a');
  assert.equal(ipam.allocate6('n', p6, 'e'), 'fd00:b::2');
  assert.deepEqual(ipam.leases('n').map((l) => l.owner).sort(), ['b', 'c', 'e']);
});
