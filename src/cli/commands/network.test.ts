import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipamConfig } from './network';

test('--gateway and --ip-range go with the subnet that holds them, IPv4 or IPv6', () => {
  assert.deepEqual(ipamConfig(['10.1.0.0/24', 'fd00:1::/64'], ['10.1.0.128/25'], ['fd00:1::fe', '10.1.0.254']), [
    { Subnet: '10.1.0.0/24', IPRange: '10.1.0.128/25', Gateway: '10.1.0.254' },
    { Subnet: 'fd00:1::/64', Gateway: 'fd00:1::fe' },
  ]);
  assert.throws(() => ipamConfig(['10.1.0.0/24'], [], ['fd00:1::1']), /no matching subnet for gateway fd00:1::1/);
  assert.throws(() => ipamConfig(['fd00:1::/64'], [], ['fd00:2::1']), /no matching subnet for gateway fd00:2::1/);
});
