import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../main';
import { logPrefix } from './compose';

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void): Writable => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });
  // No daemon at this address: commands that get as far as the API would fail differently.
  const code = await main(args, { in: new PassThrough(), out: sink((s) => (out += s)), err: sink((s) => (err += s)) }, { BERTH_HOST: 'unix:///nonexistent.sock', ...env });
  return { code, out, err };
}

test('compose: files that do not parse or validate exit 15 before any request; no file exits 14', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-cli-'));
  try {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'services:\n  web:\n    image: [busybox\n');
    let r = await run(['compose', '-f', bad, 'up', '-d']);
    assert.equal(r.code, 15);
    assert.match(r.err, new RegExp(`^${bad}: yaml: .*line \\d+`));
    fs.writeFileSync(bad, 'services:\n  web:\n    image: busybox\n    restart: [always]\n');
    r = await run(['compose', '-f', bad, 'down']);
    assert.equal(r.code, 15);
    assert.equal(r.err, `validating ${bad}: services.web.restart must be a string\n`);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      r = await run(['compose', 'ps']);
    } finally {
      process.chdir(cwd);
    }
    assert.equal(r.code, 14);
    assert.equal(r.err, 'no configuration file provided: not found\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('compose: unknown subcommands and flags, version, help', async () => {
  assert.deepEqual(await run(['compose', 'frobnicate']), { code: 1, out: '', err: 'unknown docker command: "compose frobnicate"\n' });
  const v = await run(['compose', 'version', '--short']);
  assert.match(v.out, /^\d+\.\d+\.\d+\n$/);
  assert.equal((await run(['compose', 'up', '--bogus'])).code, 1);
  assert.match((await run(['compose', '--help'])).out, /^ {2}up +Create and start containers$/m);
});

test('logPrefix: padded name and bar, coloured when asked', () => {
  assert.equal(logPrefix('p-db-1', 9, undefined), 'p-db-1     | ');
  assert.equal(logPrefix('p-db-1', 6, 36), '\x1b[36mp-db-1  | \x1b[0m');
});
