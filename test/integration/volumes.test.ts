/**
 * Issue 5, acceptance 4 and the volume side of 5: volumes, binds and tmpfs through the real docker
 * CLI and berth; nothing mounted under the data root once the daemon has stopped.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TestDaemon, busyboxRootfsTar, integrationSkipReason, type RunResult } from '../helpers/daemon';
import { addedSince, daemonTag, hostSnapshot, type HostSnapshot } from '../helpers/host-snapshot';

const skip = integrationSkipReason();

describe('volumes and mounts', { skip }, () => {
  const d = new TestDaemon('volumes');
  let hostDir = '';
  let initial: HostSnapshot;
  before(async () => {
    initial = hostSnapshot();
    await d.start();
    d.importBusybox();
    hostDir = path.join(d.dir, 'host');
    fs.mkdirSync(hostDir);
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), [], 'the daemon left mounts or processes behind');
    assert.deepEqual(addedSince(initial, hostSnapshot(), [daemonTag(d.dataRoot), d.dir]), [], 'links, namespaces, rules or mounts left behind');
  });

  const ok = (r: RunResult, what = ''): string => {
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    return r.stdout;
  };
  const volumeMounts = (): string[] =>
    fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m && m.startsWith(path.join(d.dataRoot, 'volumes')));

  for (const cli of ['docker', 'berth'] as const) {
    const run = (args: string[], input?: string): RunResult => (cli === 'docker' ? d.docker(args, { input }) : d.berth(args, { input }));

    test(`${cli}: data in a named volume survives rm and is seen by the next container`, () => {
      const vol = `keep-${cli}`;
      ok(run(['run', '--name', `writer-${cli}`, '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo persisted > /data/file']), 'writer');
      ok(run(['rm', '-v', `writer-${cli}`]), 'rm -v');
      assert.equal(ok(run(['volume', 'ls', '-q'])).split('\n').includes(vol), true, 'rm -v never removes a named volume');
      assert.equal(ok(run(['run', '--rm', '-v', `${vol}:/again:ro`, 'busybox', 'cat', '/again/file'])), 'persisted\n');
      ok(run(['volume', 'rm', vol]));
    });

    test(`${cli}: rm -v removes the container's anonymous volumes, never named ones; plain rm leaves them dangling`, () => {
      const before = new Set(ok(run(['volume', 'ls', '-q'])).split('\n').filter(Boolean));
      const id = ok(run(['create', '-v', `named-${cli}:/n`, '-v', '/anon', '--mount', 'type=volume,dst=/anon2', 'busybox', 'true'])).trim();
      const mounts = JSON.parse(ok(run(['inspect', '-f', '{{json .Mounts}}', id]))) as { Type: string; Name: string; Destination: string; Mode: string; Driver: string }[];
      assert.deepEqual(mounts.map((m) => [m.Destination, m.Type, m.Driver, m.Mode]).sort(), [['/anon', 'volume', 'local', ''], ['/anon2', 'volume', 'local', 'z'], ['/n', 'volume', 'local', 'z']]);
      const anon = mounts.filter((m) => m.Destination !== '/n').map((m) => m.Name);
      for (const a of anon) assert.match(a, /^[0-9a-f]{64}$/);
      // The anonymous ones are labelled as Docker 23+ labels them.
      assert.equal(ok(run(['volume', 'inspect', '-f', '{{json .Labels}}', anon[0]])).trim(), '{"com.docker.volume.anonymous":""}');
      ok(run(['rm', '-v', id]));
      const after = new Set(ok(run(['volume', 'ls', '-q'])).split('\n').filter(Boolean));
      for (const a of anon) assert.equal(after.has(a), false, `${a} should be gone`);
      assert.equal(after.has(`named-${cli}`), true);
      // Without -v the anonymous volume stays, dangling.
      const id2 = ok(run(['create', '-v', '/anon', 'busybox', 'true'])).trim();
      const a2 = ok(run(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', id2])).trim();
      ok(run(['rm', id2]));
      assert.ok(ok(run(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n').includes(a2));
      ok(run(['volume', 'rm', a2, `named-${cli}`]));
      assert.deepEqual(new Set(ok(run(['volume', 'ls', '-q'])).split('\n').filter(Boolean)), before);
    });

    test(`${cli}: a bind mount refuses writes with :ro and writes through to the host with :rw`, () => {
      fs.writeFileSync(path.join(hostDir, 'from-host'), 'hello\n');
      const ro = run(['run', '--rm', '-v', `${hostDir}:/h:ro`, 'busybox', 'sh', '-c', 'cat /h/from-host; touch /h/nope']);
      assert.notEqual(ro.code, 0);
      assert.equal(ro.stdout, 'hello\n');
      assert.match(ro.stderr, /Read-only file system/);
      assert.equal(fs.existsSync(path.join(hostDir, 'nope')), false);
      ok(run(['run', '--rm', '-v', `${hostDir}:/h:rw`, 'busybox', 'sh', '-c', `echo ${cli} > /h/from-${cli}`]));
      assert.equal(fs.readFileSync(path.join(hostDir, `from-${cli}`), 'utf8'), `${cli}\n`);
      // A missing host directory is created for -v (not for --mount).
      const fresh = path.join(d.dir, `made-by-${cli}`);
      ok(run(['run', '--rm', '-v', `${fresh}:/m`, 'busybox', 'true']));
      assert.ok(fs.statSync(fresh).isDirectory());
      const missing = run(['run', '--rm', '--mount', `type=bind,src=${d.dir}/missing,dst=/x`, 'busybox', 'true']);
      assert.equal(missing.code, 125);
      assert.match(missing.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${d.dir}/missing`));
    });

    test(`${cli}: --tmpfs is a tmpfs, empty at each start`, () => {
      const name = `tmp-${cli}`;
      const script = 'grep " /scratch " /proc/mounts; ls /scratch; touch /scratch/left-over';
      const first = ok(run(['run', '--name', name, '--tmpfs', '/scratch:size=1m,mode=1770', 'busybox', 'sh', '-c', script]));
      assert.match(first, /^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770/);
      assert.equal(first.split('\n').length, 2, `nothing listed in /scratch: ${first}`);
      ok(run(['start', name]));
      ok(run(['wait', name]));
      assert.equal(ok(run(['logs', name])).split('\n').filter((l) => l.includes('left-over')).length, 0);
      // Not a MountPoint: inspect's Mounts leaves --tmpfs out, as Docker does.
      assert.equal(ok(run(['inspect', '-f', '{{json .Mounts}} {{json .HostConfig.Tmpfs}}', name])).trim(), '[] {"/scratch":"size=1m,mode=1770"}');
      ok(run(['rm', name]));
    });

    test(`${cli}: volume rm of a volume in use is refused (409, exit 1) even for a stopped container`, async () => {
      const vol = `busy-${cli}`;
      const id = ok(run(['create', '--name', `holder-${cli}`, '-v', `${vol}:/b`, 'busybox', 'true'])).trim();
      const r = run(['volume', 'rm', vol]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), `Error response from daemon: remove ${vol}: volume is in use - [${id}]`);
      const api = await d.request('DELETE', `/v1.41/volumes/${vol}`);
      assert.equal(api.status, 409);
      const forced = run(['volume', 'rm', '-f', vol]);
      assert.equal(forced.code, 1, 'force does not take a volume from a container');
      ok(run(['rm', `holder-${cli}`]));
      assert.equal(ok(run(['volume', 'rm', vol])), `${vol}\n`);
      const gone = run(['volume', 'rm', vol]);
      assert.equal(gone.code, 1);
      assert.equal(gone.stderr.trim(), `Error response from daemon: get ${vol}: no such volume`);
      assert.equal(ok(run(['volume', 'rm', '-f', vol])), `${vol}\n`);
    });

    test(`${cli}: --volumes-from shares volumes and binds, read-only with :ro`, () => {
      const src = `datasrc-${cli}`;
      ok(run(['create', '--name', src, '-v', `shared-${cli}:/shared`, '-v', `${hostDir}:/host`, '-v', '/anon', 'busybox', 'true']));
      ok(run(['run', '--rm', '--volumes-from', src, 'busybox', 'sh', '-c', 'echo via-from > /shared/f; test -f /host/from-host; test -d /anon']));
      const ro = run(['run', '--rm', '--volumes-from', `${src}:ro`, 'busybox', 'sh', '-c', 'cat /shared/f; touch /shared/g']);
      assert.equal(ro.stdout, 'via-from\n');
      assert.notEqual(ro.code, 0);
      // The source's anonymous volume stays while the source exists, and goes with its rm -v.
      const anon = ok(run(['inspect', '-f', '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}', src])).trim();
      ok(run(['rm', '-v', src]));
      assert.equal(ok(run(['volume', 'ls', '-q'])).split('\n').includes(anon), false);
      ok(run(['volume', 'rm', `shared-${cli}`]));
    });

    test(`${cli}: --mount forms: volume with nocopy, bind readonly, tmpfs with size and mode`, () => {
      const out = ok(
        run([
          'run', '--rm',
          '--mount', `type=volume,source=mnt-${cli},target=/v,volume-nocopy`,
          '--mount', `type=bind,src=${hostDir},dst=/b,readonly`,
          '--mount', 'type=tmpfs,destination=/t,tmpfs-size=2m,tmpfs-mode=700',
          'busybox', 'sh', '-c', 'grep " /b " /proc/mounts | cut -d" " -f4 | cut -d, -f1; grep " /t " /proc/mounts | cut -d" " -f3,4; stat -c %a /t; cat /b/from-host; ls -A /v | wc -l',
        ]),
      );
      assert.equal(out, 'ro\ntmpfs rw,nosuid,nodev,noexec,relatime,size=2048k,mode=700\n700\nhello\n0\n');
      ok(run(['volume', 'rm', `mnt-${cli}`]));
    });
  }

  test('an image VOLUME becomes an anonymous volume seeded with the image\'s files, owners and modes', () => {
    const ctx = path.join(d.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(
      path.join(ctx, 'Dockerfile'),
      'FROM busybox\nRUN mkdir -p /data/sub && echo seeded > /data/a && echo deep > /data/sub/b && ln -s a /data/link && chown -R 1000:1000 /data/sub && chmod 0750 /data/sub && chmod 0711 /data\nVOLUME /data\n',
    );
    ok(d.docker(['build', '-q', '-t', 'withvol', ctx], { env: { DOCKER_BUILDKIT: '0' } }), 'build');
    const script = 'stat -c "%a %u:%g %n" /data /data/sub /data/sub/b; cat /data/a /data/link /data/sub/b; echo added > /data/new';
    const out = ok(d.docker(['run', '--name', 'seeded', 'withvol', 'sh', '-c', script]));
    assert.equal(out, '711 0:0 /data\n750 1000:1000 /data/sub\n644 1000:1000 /data/sub/b\nseeded\nseeded\ndeep\n');
    const mounts = JSON.parse(ok(d.docker(['inspect', '-f', '{{json .Mounts}}', 'seeded']))) as { Name: string; Source: string; Destination: string; Mode: string; RW: boolean }[];
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0].Destination, '/data');
    assert.match(mounts[0].Name, /^[0-9a-f]{64}$/);
    assert.equal(mounts[0].Source, path.join(d.dataRoot, 'volumes', mounts[0].Name, '_data'));
    assert.equal(fs.readFileSync(path.join(mounts[0].Source, 'new'), 'utf8'), 'added\n');
    // A named volume that already has content is not seeded again; nocopy leaves it empty.
    ok(d.docker(['run', '--rm', '-v', 'pre:/data', 'withvol', 'sh', '-c', 'rm -rf /data/* && echo mine > /data/own']));
    assert.equal(ok(d.berth(['run', '--rm', '-v', 'pre:/data', 'withvol', 'ls', '/data'])), 'own\n');
    assert.equal(ok(d.berth(['run', '--rm', '-v', 'empty:/data:nocopy', 'withvol', 'ls', '-A', '/data'])), '');
    assert.deepEqual(JSON.parse(ok(d.docker(['inspect', '-f', '{{json .Config.Volumes}}', 'seeded']))), { '/data': {} });
    ok(d.docker(['rm', '-v', 'seeded']));
    assert.equal(fs.existsSync(mounts[0].Source), false);
    ok(d.docker(['volume', 'rm', 'pre', 'empty']));
    // An image made by `docker import --change 'VOLUME /etc'`: the volume starts with the image's /etc.
    ok(d.docker(['import', '-c', 'VOLUME /etc', '-c', 'CMD ["sh"]', busyboxRootfsTar(), 'etcvol']));
    assert.match(ok(d.berth(['run', '--name', 'etc', 'etcvol', 'grep', '^root:', '/etc/passwd'])), /^root:x:0:0:/);
    assert.equal(ok(d.berth(['inspect', '-f', '{{range .Mounts}}{{.Destination}} {{.Type}}{{end}}', 'etc'])), '/etc volume\n');
    ok(d.berth(['rm', '-v', 'etc']));
  });

  test('a tmpfs-backed local volume: mounted while a container uses it, gone when none does', async () => {
    const created = ok(d.berth(['volume', 'create', '--label', 'kind=scratch', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=10m', 'tv']));
    assert.equal(created, 'tv\n');
    const info = JSON.parse(ok(d.docker(['volume', 'inspect', 'tv'])))[0];
    assert.deepEqual({ ...info, CreatedAt: '' }, {
      CreatedAt: '',
      Driver: 'local',
      Labels: { kind: 'scratch' },
      Mountpoint: path.join(d.dataRoot, 'volumes', 'tv', '_data'),
      Name: 'tv',
      Options: { device: 'tmpfs', o: 'size=10m', type: 'tmpfs' },
      Scope: 'local',
    });
    ok(d.docker(['run', '-d', '--name', 'tv-a', '-v', 'tv:/s', 'busybox', 'sleep', '1000']));
    ok(d.docker(['run', '-d', '--name', 'tv-b', '-v', 'tv:/s', 'busybox', 'sleep', '1000']));
    assert.deepEqual(volumeMounts(), [info.Mountpoint]);
    assert.match(ok(d.docker(['run', '--rm', '-v', 'tv:/s', 'busybox', 'grep', ' /s ', '/proc/mounts'])), /^tmpfs \/s tmpfs rw,relatime,size=10240k/);
    ok(d.docker(['stop', '-t', '0', 'tv-a']));
    assert.deepEqual(volumeMounts(), [info.Mountpoint], 'tv-b still uses it');
    ok(d.docker(['stop', '-t', '0', 'tv-b']));
    assert.deepEqual(volumeMounts(), []);
    ok(d.docker(['rm', 'tv-a', 'tv-b']));
    // A bind-type local volume over a host directory.
    ok(d.docker(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${hostDir}`, 'hostvol']));
    assert.equal(ok(d.docker(['run', '--rm', '-v', 'hostvol:/h', 'busybox', 'cat', '/h/from-host'])), 'hello\n');
    assert.deepEqual(volumeMounts(), []);
    ok(d.docker(['volume', 'rm', 'hostvol', 'tv']));
    assert.equal(fs.readFileSync(path.join(hostDir, 'from-host'), 'utf8'), 'hello\n', 'removing the volume leaves the host directory alone');
    const bad = d.docker(['volume', 'create', '-o', 'foo=bar', 'badopt']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), 'Error response from daemon: create badopt: invalid option: "foo"');
  });

  test('volume ls, inspect and prune: filters, formats, API shapes and versions', async () => {
    ok(d.docker(['volume', 'create', '--label', 'env=test', 'v10']));
    ok(d.docker(['volume', 'create', 'v9']));
    ok(d.docker(['create', '--name', 'user', '-v', 'v9:/x', 'busybox', 'true']));
    const anon = ok(d.docker(['volume', 'create'])).trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    for (const cli of ['docker', 'berth'] as const) {
      const run = (args: string[], input?: string): RunResult => (cli === 'docker' ? d.docker(args, { input }) : d.berth(args, { input }));
      assert.equal(ok(run(['volume', 'ls'])), `DRIVER    VOLUME NAME\nlocal     ${anon}\nlocal     v9\nlocal     v10\n`);
      assert.equal(ok(run(['volume', 'ls', '-q', '-f', 'dangling=false'])), 'v9\n');
      assert.equal(ok(run(['volume', 'ls', '-q', '-f', 'label=env=test'])), 'v10\n');
      assert.equal(ok(run(['volume', 'ls', '-q', '-f', 'name=^v1'])), 'v10\n');
      assert.equal(ok(run(['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}} {{.Label "env"}}', '-f', 'name=v10'])), 'v10 local local env=test test\n');
      const bad = run(['volume', 'ls', '-f', 'foo=bar']);
      assert.equal(bad.code, 1);
      assert.equal(bad.stderr.trim(), "Error response from daemon: invalid filter 'foo'");
      assert.equal(ok(run(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Mountpoint}}', 'v9'])), `v9 local ${path.join(d.dataRoot, 'volumes', 'v9', '_data')}\n`);
      const missing = run(['volume', 'inspect', 'nope']);
      assert.equal(missing.code, 1);
      assert.equal(missing.stdout, '[]\n');
      assert.equal(missing.stderr.trim(), 'Error response from daemon: get nope: no such volume');
      // ps shows the container's mounts; the volume filter finds it.
      assert.equal(ok(run(['ps', '-a', '--filter', 'volume=v9', '--format', '{{.Names}} {{.Mounts}} {{.LocalVolumes}}'])), 'user v9 1\n');
    }
    const list = await d.request('GET', '/v1.41/volumes?filters=' + encodeURIComponent('{"name":["v10"]}'));
    assert.equal(list.status, 200);
    const body = JSON.parse(list.body);
    assert.equal(body.Warnings, null);
    assert.deepEqual(Object.keys(body.Volumes[0]), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    const plugin = await d.request('POST', '/v1.41/volumes/create', JSON.stringify({ Name: 'pv', Driver: 'nfs-plugin' }));
    assert.deepEqual([plugin.status, JSON.parse(plugin.body).message], [404, 'create pv: error looking up volume plugin nfs-plugin: plugin "nfs-plugin" not found']);
    const badName = await d.request('POST', '/v1.41/volumes/create', JSON.stringify({ Name: 'a b' }));
    assert.equal(badName.status, 400);
    // Prune: API 1.41 removes every unused local volume; a filter can keep some.
    const kept = await d.request('POST', '/v1.41/volumes/prune?filters=' + encodeURIComponent('{"label!":["env=test"]}'));
    assert.deepEqual(JSON.parse(kept.body).VolumesDeleted, [anon]);
    const cancelled = d.berth(['volume', 'prune'], { input: 'n\n' });
    assert.equal(cancelled.code, 0);
    assert.equal(cancelled.stdout, 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ');
    const pruned = d.docker(['volume', 'prune', '-f']);
    assert.equal(ok(pruned), 'Deleted Volumes:\nv10\n\nTotal reclaimed space: 0B\n');
    assert.equal(ok(d.berth(['volume', 'ls', '-q'])), 'v9\n', 'a volume a container uses is never pruned');
    ok(d.docker(['rm', 'user']));
    assert.equal(ok(d.berth(['volume', 'prune', '-a', '-f'])), 'Deleted Volumes:\nv9\n\nTotal reclaimed space: 0B\n');
  });

  test('Docker\'s create errors for mounts', async () => {
    const create = (hc: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ status: number; body: string }> =>
      d.request('POST', '/v1.41/containers/create', JSON.stringify({ Image: 'busybox', ...extra, HostConfig: hc }));
    const cases: [Record<string, unknown>, number, string][] = [
      [{ Binds: ['a b:/x'] }, 400, 'create a b: "a b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
      [{ Binds: ['v1:/x', 'v2:/x'] }, 400, 'Duplicate mount point: /x'],
      [{ Binds: ['v1:/x'], Tmpfs: { '/x': '' } }, 400, 'Duplicate mount point: /x'],
      [{ Binds: ['v1:relative'] }, 400, "invalid volume specification: 'v1:relative': invalid mount config for type \"volume\": invalid mount path: 'relative' mount path must be absolute"],
      [{ Binds: ['v1:/x:bogus'] }, 400, 'invalid mode: bogus'],
      [{ Mounts: [{ Type: 'bind', Source: '/no/such/dir', Target: '/x' }] }, 400, 'invalid mount config for type "bind": bind source path does not exist: /no/such/dir'],
      [{ Mounts: [{ Type: 'volume', Target: '/x', ReadOnly: true }] }, 400, 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes'],
      [{ VolumesFrom: ['nosuchcontainer'] }, 404, 'No such container: nosuchcontainer'],
      [{ Binds: ['v1:/x'], VolumeDriver: 'flocker' }, 404, 'create v1: error looking up volume plugin flocker: plugin "flocker" not found'],
    ];
    for (const [hc, status, message] of cases) {
      const r = await create(hc);
      assert.deepEqual([r.status, JSON.parse(r.body).message], [status, message], JSON.stringify(hc));
    }
    // Nothing of the failed requests stays behind.
    assert.equal(ok(d.docker(['volume', 'ls', '-q'])), '');
    assert.equal(ok(d.docker(['ps', '-aq'])), '');
    const file = await create({}, { Volumes: { '/etc/passwd': {} } });
    assert.equal(file.status, 400);
    assert.match(JSON.parse(file.body).message, /^cannot mount volume over existing file, file exists .*\/etc\/passwd$/);
  });

  test('mounts held by running containers are released when the daemon stops', () => {
    ok(d.docker(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'held']));
    ok(d.docker(['run', '-d', '--name', 'holder', '-v', 'held:/h', '-v', `${hostDir}:/b`, '--tmpfs', '/t', 'busybox', 'sleep', '1000']));
    assert.equal(volumeMounts().length, 1);
    // after(): cleanup() stops the daemon and fails on any mount left under its directory.
  });
});

