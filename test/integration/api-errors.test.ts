/**
 * Issue 2, acceptance 6: bad input gets a 4xx and a message, never a crash. A compact table of
 * request → status → message, in the style of Podman's API tests.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, integrationSkipReason } from '../helpers/daemon';

const skip = integrationSkipReason();

describe('Engine API rejects bad input', { skip }, () => {
  const d = new TestDaemon('api-errors');
  before(async () => {
    await d.start();
    d.importBusybox();
    assert.equal(d.docker(['create', '--name', 'taken', 'busybox', 'true']).code, 0);
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), []);
  });

  const cases: [string, string, string | undefined, number, RegExp][] = [
    ['POST', '/v1.41/containers/create', '{"Image": "busybox",', 400, /invalid JSON/],
    ['POST', '/v1.41/containers/create', '[1,2]', 400, /JSON object/],
    ['POST', '/v1.41/containers/create', '{"Image": "busybox", "Cmd": 42}', 400, /cannot unmarshal number 42 into Go struct field Cmd/],
    ['POST', '/v1.41/containers/create', '{"Image": "nosuchimage"}', 404, /No such image: nosuchimage/],
    ['POST', '/v1.41/containers/create', '{}', 400, /Config cannot be empty/],
    ['POST', '/v1.41/containers/create?name=taken', '{"Image": "busybox", "Cmd": ["true"]}', 409, /already in use/],
    ['POST', '/v1.41/containers/create?name=bad%20name', '{"Image": "busybox", "Cmd": ["true"]}', 400, /Invalid container name/],
    ['GET', '/v1.41/containers/nosuch/json', undefined, 404, /No such container: nosuch/],
    ['POST', '/v1.41/containers/nosuch/start', undefined, 404, /No such container: nosuch/],
    ['POST', '/v1.41/containers/taken/kill?signal=SIGNOPE', undefined, 400, /Invalid signal/],
    ['GET', '/v1.41/containers/json?filters=notjson', undefined, 400, /invalid filter/],
    ['GET', '/v1.41/containers/json?filters={"nosuchkey":["x"]}', undefined, 400, /invalid filter/],
    ['GET', '/v1.41/images/nosuchimage/json', undefined, 404, /No such image: nosuchimage/],
    ['DELETE', '/v1.41/images/nosuchimage', undefined, 404, /No such image/],
    ['POST', '/v1.41/images/busybox/tag?repo=Bad_Upper', undefined, 400, /invalid reference format/],
    ['GET', '/v1.99/version', undefined, 400, /too new/],
    ['GET', '/v1.12/version', undefined, 400, /too old/],
    ['GET', '/v1.41/no/such/endpoint', undefined, 404, /page not found/],
    ['POST', '/v1.41/images/load', 'this is not a tar archive at all', 400, /./],
    ['POST', '/v1.41/containers/taken/wait?condition=sometime', undefined, 400, /invalid condition/],
    ['GET', '/v1.41/containers/taken/logs', undefined, 400, /choose at least one stream/],
  ];

  for (const [method, path, body, status, msg] of cases) {
    test(`${method} ${path} → ${status}`, async () => {
      const r = await d.request(method, path, body);
      assert.equal(r.status, status, r.body);
      const parsed = JSON.parse(r.body) as { message: string };
      assert.match(parsed.message, msg);
    });
  }

  test('the daemon is still healthy after all of that', async () => {
    const r = await d.request('GET', '/_ping');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'OK');
    assert.equal(r.headers['api-version'], '1.41');
    assert.equal(d.docker(['run', '--rm', 'busybox', 'echo', 'still-alive']).stdout, 'still-alive\n');
  });
});
