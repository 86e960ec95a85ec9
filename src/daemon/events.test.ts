import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, eventJSON, eventMatches, makeEvent } from './events';
import { parseEventTime } from '../api/routes/events';

const ctr = (action: string, id = 'abc123', attrs: Record<string, string> = { name: 'web', image: 'busybox:latest', tier: 'front' }) => makeEvent('container', action, id, attrs);

test('messages have Docker shape: legacy fields for containers and images only, exact timeNano', () => {
  const e = ctr('start');
  const j = JSON.parse(eventJSON(e)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(j), ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
  assert.equal(j.from, 'busybox:latest');
  assert.match(eventJSON(e), new RegExp(`"timeNano":${e.timeNano}}$`));
  assert.equal(BigInt(j.time as number), e.timeNano / 1_000_000_000n);
  const v = JSON.parse(eventJSON(makeEvent('volume', 'create', 'v1', { driver: 'local' }))) as Record<string, unknown>;
  assert.equal(v.status, undefined);
  const i = JSON.parse(eventJSON(makeEvent('image', 'tag', 'sha256:1', { name: 'x:1' }))) as Record<string, unknown>;
  assert.equal(i.status, 'tag');
  assert.equal(i.from, undefined);
  assert.ok(ctr('a').timeNano < ctr('b').timeNano, 'strictly increasing');
});

test('filters as Docker matches them', () => {
  const m = (f: Record<string, string[]>, e = ctr('die')) => eventMatches(f, e);
  assert.ok(m({}));
  assert.ok(m({ container: ['web'] }) && m({ container: ['abc'] }) && m({ container: ['we'] }));
  assert.ok(!m({ container: ['db'] }));
  // Other types pass a container filter only through a matching ID or name attribute, as in Docker.
  assert.ok(!m({ container: ['web'] }, makeEvent('image', 'tag', 'sha256:1', { name: 'busybox:1' })));
  assert.ok(m({ container: ['web'] }, makeEvent('network', 'connect', 'n1', { name: 'web-net', container: 'abc123' })));
  assert.ok(m({ event: ['die', 'start'] }) && !m({ event: ['start'] }));
  assert.ok(m({ event: ['health_status'] }, ctr('health_status: healthy')));
  assert.ok(!m({ event: ['health'] }, ctr('health_status: healthy')));
  assert.ok(m({ type: ['container'] }) && !m({ type: ['image'] }));
  assert.ok(m({ image: ['busybox'] }) && m({ image: ['busybox:latest'] }) && !m({ image: ['alpine'] }));
  assert.ok(m({ image: ['busybox'] }, makeEvent('image', 'pull', 'busybox:latest', { name: 'busybox:latest' })));
  assert.ok(m({ label: ['tier'] }) && m({ label: ['tier=front'] }) && !m({ label: ['tier=back'] }));
  assert.ok(!m({ volume: ['v'] }) && m({ volume: ['v'] }, makeEvent('volume', 'create', 'v', {})));
});

test('the ring keeps the last events; since/until pick from it; none without either', () => {
  const bus = new EventBus(3);
  const evs = ['a', 'b', 'c', 'd'].map((a) => ctr(a));
  for (const e of evs) bus.publish(e);
  const live: string[] = [];
  const all = bus.subscribe(0n, undefined, () => true, (e) => live.push(e.Action));
  assert.deepEqual(all.buffered.map((e) => e.Action), ['b', 'c', 'd']);
  assert.deepEqual(bus.subscribe(evs[2].timeNano, evs[2].timeNano, () => true, () => undefined).buffered.map((e) => e.Action), ['c']);
  assert.deepEqual(bus.subscribe(undefined, evs[1].timeNano, () => true, () => undefined).buffered.map((e) => e.Action), ['b']);
  assert.deepEqual(bus.subscribe(undefined, undefined, () => true, () => undefined).buffered, []);
  bus.publish(ctr('e'));
  all.cancel();
  bus.publish(ctr('f'));
  assert.deepEqual(live, ['e']);
});

test('timestamps of the API', () => {
  assert.equal(parseEventTime('1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(parseEventTime('1700000000.5'), 1_700_000_000_500_000_000n);
  assert.equal(parseEventTime('1700000000.000000001'), 1_700_000_000_000_000_001n);
  assert.equal(parseEventTime(''), undefined);
  assert.throws(() => parseEventTime('10m'), /invalid timestamp/);
});
