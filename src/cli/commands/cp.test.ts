import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareCopy, splitCpArg, splitPathDirEntry } from './cp';

test('splitCpArg: container:path, and local paths (absolute, or starting with a dot) even with a colon', () => {
  assert.deepEqual(splitCpArg('c1:/etc/passwd'), { container: 'c1', path: '/etc/passwd' });
  assert.deepEqual(splitCpArg('c1:rel'), { container: 'c1', path: 'rel' });
  assert.deepEqual(splitCpArg('/tmp/a:b'), { container: '', path: '/tmp/a:b' });
  assert.deepEqual(splitCpArg('./a:b'), { container: '', path: './a:b' });
  assert.deepEqual(splitCpArg('plain'), { container: '', path: 'plain' });
  assert.deepEqual(splitCpArg('-'), { container: '', path: '-' });
});

test('splitPathDirEntry keeps "." for a path ending in /.', () => {
  assert.deepEqual(splitPathDirEntry('/a/b'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('rel'), ['.', 'rel']);
  assert.deepEqual(splitPathDirEntry('/'), ['/', '/']);
});

test('prepareCopy: docker\'s rules for where the source lands', () => {
  const dir = { path: '/src/tree', exists: true, isDir: true };
  const file = { path: '/src/f', exists: true, isDir: false };
  // An existing directory receives the source under its own name.
  assert.deepEqual(prepareCopy(dir, 'tree', { path: '/dst', exists: true, isDir: true }), { dir: '/dst', name: 'tree' });
  // A missing destination: the source takes its name, in its parent.
  assert.deepEqual(prepareCopy(dir, 'tree', { path: '/dst/new', exists: false, isDir: false }), { dir: '/dst', name: 'new' });
  assert.deepEqual(prepareCopy(file, 'f', { path: '/dst/g', exists: true, isDir: false }), { dir: '/dst', name: 'g' });
  assert.throws(() => prepareCopy(dir, 'tree', { path: '/dst/g', exists: true, isDir: false }), /cannot copy directory/);
  assert.throws(() => prepareCopy(file, 'f', { path: '/dst/new/', exists: false, isDir: false }), /no such directory/);
  // A rebase name (a followed symlink) wins over the resolved name.
  assert.deepEqual(prepareCopy({ ...file, rebaseName: 'link' }, 'f', { path: '/dst', exists: true, isDir: true }), { dir: '/dst', name: 'link' });
});
