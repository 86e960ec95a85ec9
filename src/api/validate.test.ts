import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateBody, CONTAINER_CREATE, NETWORK_CREATE } from './validate';

test('validateBody: Go types, Go wording', () => {
  const ok = { Image: 'x', Cmd: 'true', Env: ['A=1'], HostConfig: { Memory: 1 << 20, Binds: null, PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, Unknown: { any: 1 } };
  validateBody(ok, CONTAINER_CREATE);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ Env: 'A=1' }, /cannot unmarshal string into Go struct field Env of type \[\]string/],
    [{ Env: [1] }, /cannot unmarshal number 1 into Go struct field Env of type string/],
    [{ HostConfig: { Memory: '1g' } }, /Go struct field HostConfig\.Memory of type int64/],
    [{ HostConfig: { Memory: 1.5 } }, /number 1\.5 into Go struct field HostConfig\.Memory/],
    [{ HostConfig: { Memory: 1e308 } }, /HostConfig\.Memory of type int64/],
    [{ hostconfig: { networkmode: 42 } }, /HostConfig\.NetworkMode of type string/],
    [{ HostConfig: { BlkioWeight: 70000 } }, /BlkioWeight of type uint16/],
    [{ HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 80 }] } } }, /HostConfig\.PortBindings\.HostPort of type string/],
    [{ Cmd: [1] }, /Cmd of type strslice\.StrSlice/],
    [{ HostConfig: [] }, /cannot unmarshal array into Go struct field HostConfig of type container\.HostConfig/],
  ];
  for (const [body, re] of bad) assert.throws(() => validateBody(body, CONTAINER_CREATE), re, JSON.stringify(body));
  assert.throws(() => validateBody({ IPAM: { Config: [{ Subnet: 10 }] } }, NETWORK_CREATE), /IPAM\.Config\.Subnet of type string/);
});

test('validateBody: null elements of lists become zero values, as Go decodes them', () => {
  const body: Record<string, unknown> = { Env: [null, 'A=1'], HostConfig: { Binds: [null] } };
  validateBody(body, CONTAINER_CREATE);
  assert.deepEqual(body.Env, ['', 'A=1']);
  assert.deepEqual((body.HostConfig as { Binds: unknown }).Binds, ['']);
});
