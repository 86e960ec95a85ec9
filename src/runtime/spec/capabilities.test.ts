import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { isKind } from '../../core/errors';
import {
  ALL_CAPABILITY_NAMES,
  DEFAULT_CAPABILITIES,
  capabilitiesFromMask,
  hostCapabilities,
  normalizeCapabilities,
  normalizeCapabilityNames,
} from './capabilities';

test("the default set is Docker's 14 capabilities", () => {
  assert.deepEqual(
    [...DEFAULT_CAPABILITIES].sort(),
    [
      'CAP_AUDIT_WRITE',
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_FSETID',
      'CAP_KILL',
      'CAP_MKNOD',
      'CAP_NET_BIND_SERVICE',
      'CAP_NET_RAW',
      'CAP_SETFCAP',
      'CAP_SETGID',
      'CAP_SETPCAP',
      'CAP_SETUID',
      'CAP_SYS_CHROOT',
    ],
  );
  assert.equal(ALL_CAPABILITY_NAMES.length, 41);
  assert.equal(ALL_CAPABILITY_NAMES[21], 'CAP_SYS_ADMIN');
  assert.equal(ALL_CAPABILITY_NAMES[40], 'CAP_CHECKPOINT_RESTORE');
});

test('names are upper-cased and prefixed, ALL kept', () => {
  assert.deepEqual(normalizeCapabilityNames(['sys_admin', 'CAP_net_admin', 'Cap_Sys_Ptrace', 'all']), [
    'CAP_SYS_ADMIN',
    'CAP_NET_ADMIN',
    'CAP_SYS_PTRACE',
    'ALL',
  ]);
});

test('unknown capabilities are rejected like docker does', () => {
  for (const [name, shown] of [
    ['foo', 'CAP_FOO'],
    ['CAP_FOO', 'CAP_FOO'],
    ['cap_nope', 'CAP_NOPE'],
  ]) {
    assert.throws(
      () => normalizeCapabilities(DEFAULT_CAPABILITIES, [name], []),
      (e: unknown) => isKind(e, 'invalid-argument') && (e as Error).message === `unknown capability: "${shown}"`,
    );
    assert.throws(() => normalizeCapabilities(DEFAULT_CAPABILITIES, [], [name]), /unknown capability/);
  }
});

test('cap-add and cap-drop tweak the base set', () => {
  assert.deepEqual(normalizeCapabilities(DEFAULT_CAPABILITIES, [], []), DEFAULT_CAPABILITIES);
  const caps = normalizeCapabilities(DEFAULT_CAPABILITIES, ['sys_admin', 'NET_ADMIN'], ['chown', 'CAP_NET_RAW']);
  assert.ok(caps.includes('CAP_SYS_ADMIN') && caps.includes('CAP_NET_ADMIN'));
  assert.ok(!caps.includes('CAP_CHOWN') && !caps.includes('CAP_NET_RAW'));
  assert.equal(caps.length, DEFAULT_CAPABILITIES.length);
  // adding one already present does not duplicate it
  assert.deepEqual(normalizeCapabilities(DEFAULT_CAPABILITIES, ['chown'], []), DEFAULT_CAPABILITIES);
});

test('ALL in cap-add gives the bounding set minus the dropped ones', () => {
  const bounding = ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];
  assert.deepEqual(normalizeCapabilities(DEFAULT_CAPABILITIES, ['ALL'], ['net_admin'], bounding), [
    'CAP_CHOWN',
    'CAP_SYS_ADMIN',
  ]);
  // with the host's own bounding set
  const all = normalizeCapabilities(DEFAULT_CAPABILITIES, ['all'], []);
  assert.deepEqual(all, hostCapabilities());
});

test('ALL in cap-drop keeps only the added ones', () => {
  assert.deepEqual(normalizeCapabilities(DEFAULT_CAPABILITIES, ['net_raw', 'kill'], ['ALL']), ['CAP_NET_RAW', 'CAP_KILL']);
  assert.deepEqual(normalizeCapabilities(DEFAULT_CAPABILITIES, [], ['all']), []);
});

test('bounding masks map bits to names', () => {
  const caps = capabilitiesFromMask('000001fffeffffff');
  assert.equal(caps.length, 40);
  assert.ok(!caps.includes('CAP_SYS_RESOURCE'));
  assert.ok(caps.includes('CAP_CHECKPOINT_RESTORE'));
  assert.deepEqual(capabilitiesFromMask('0000000000000000'), []);
  assert.deepEqual(capabilitiesFromMask('0000000000200001'), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  assert.deepEqual(hostCapabilities('Name:\tx\nCapBnd:\t0000000000000021\nCapAmb:\t0\n'), ['CAP_CHOWN', 'CAP_KILL']);
  // no CapBnd line (no /proc): every capability
  assert.deepEqual(hostCapabilities(''), [...ALL_CAPABILITY_NAMES]);
});

test("the host's bounding set is read from /proc/self/status", (t) => {
  if (!fs.existsSync('/proc/self/status')) return t.skip('no /proc on this machine');
  const m = /^CapBnd:\s*([0-9a-f]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  assert.ok(m);
  assert.deepEqual(hostCapabilities(), capabilitiesFromMask(m[1]));
});
