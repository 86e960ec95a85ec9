#!/usr/bin/env node
'use strict';
// Runs every compiled test file under node's test runner. Unit tests live beside the code
// (src/**/*.test.ts), integration and compatibility tests under test/ (they need root and
// start real daemons). Node 20's --test takes no globs, so the files are listed here.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'dist');
function collect(dir, out) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) collect(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const only = process.argv.slice(2);
let files = [...collect(path.join(root, 'src'), []), ...collect(path.join(root, 'test'), [])].sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('test/run.js: no test files found (did the build run?)');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
