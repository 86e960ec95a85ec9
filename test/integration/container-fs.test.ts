/**
 * Issue 6, acceptance 6: a container's filesystem from outside through the real docker CLI and
 * berth: cp both ways (running and stopped containers, modes, symlinks, ownership, volumes, paths
 * that try to leave the container), diff, commit, export, container/image prune and system df.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, integrationSkipReason, type RunResult } from '../helpers/daemon';

const skip = integrationSkipReason();

/** `tar tv --numeric-owner` of a tar file: name → "mode uid/gid" (and " -> target" for links). */
function listTar(file: string): Map<string, string> {
  const r = spawnSync('tar', ['-tvf', file, '--numeric-owner'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const f = line.split(/\s+/);
    const name = f.slice(5).join(' ');
    const [n, target] = name.split(' -> ');
    out.set(n.replace(/\/$/, ''), `${f[0]} ${f[1]}${target ? ` -> ${target}` : ''}`);
  }
  return out;
}

describe('container filesystem: cp, diff, commit, export, prune, df', { skip }, () => {
  const d = new TestDaemon('containerfs');
  let tree = '';
  before(async () => {
    await d.start();
    d.importBusybox();
    // The tree every cp test copies: modes 0755 and 0600, a relative symlink, a nested dir.
    tree = path.join(d.dir, 'tree');
    fs.mkdirSync(path.join(tree, 'nested', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'run.sh'), '#!/bin/sh\necho run\n');
    fs.chmodSync(path.join(tree, 'run.sh'), 0o755);
    fs.writeFileSync(path.join(tree, 'secret'), 'top secret\n');
    fs.chmodSync(path.join(tree, 'secret'), 0o600);
    fs.symlinkSync('run.sh', path.join(tree, 'link'));
    fs.writeFileSync(path.join(tree, 'nested', 'deeper', 'file.txt'), 'deep\n');
  });
  after(async () => {
    assert.deepEqual(await d.cleanup(), [], 'the daemon left mounts or processes behind');
  });

  const ok = (r: RunResult, what = ''): string => {
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    return r.stdout;
  };

  /** Compares a copied-back tree with the original: content, permission bits, symlinks. */
  const assertSameTree = (copy: string): void => {
    for (const rel of ['run.sh', 'secret', 'nested/deeper/file.txt']) {
      assert.equal(fs.readFileSync(path.join(copy, rel), 'utf8'), fs.readFileSync(path.join(tree, rel), 'utf8'), rel);
      assert.equal(fs.statSync(path.join(copy, rel)).mode & 0o7777, fs.statSync(path.join(tree, rel)).mode & 0o7777, `mode of ${rel}`);
    }
    assert.equal(fs.lstatSync(path.join(copy, 'link')).isSymbolicLink(), true);
    assert.equal(fs.readlinkSync(path.join(copy, 'link')), 'run.sh');
    assert.equal(fs.statSync(path.join(copy, 'nested')).isDirectory(), true);
  };

  for (const cli of ['docker', 'berth'] as const) {
    const run = (args: string[], input?: string): RunResult => (cli === 'docker' ? d.docker(args, { input }) : d.berth(args, { input }));

    test(`${cli}: cp a tree into a running container and back keeps content, modes and symlinks`, () => {
      const name = `cp-run-${cli}`;
      ok(run(['run', '-d', '--name', name, 'busybox', 'sleep', '300']), 'run -d');
      ok(run(['cp', tree, `${name}:/copied`]), 'cp in');
      // An existing directory receives the source by its name; "dir/." copies the contents.
      ok(run(['cp', tree, `${name}:/tmp`]), 'cp into an existing dir');
      const back = path.join(d.dir, `back-${cli}`);
      ok(run(['cp', `${name}:/copied`, back]), 'cp out');
      assertSameTree(back);
      const back2 = path.join(d.dir, `back2-${cli}`);
      fs.mkdirSync(back2);
      ok(run(['cp', `${name}:/tmp/tree/.`, back2]), 'cp out contents');
      assertSameTree(back2);
      // A symlink is copied as a link unless -L.
      ok(run(['cp', `${name}:/copied/link`, path.join(d.dir, `link-${cli}`)]));
      assert.equal(fs.readlinkSync(path.join(d.dir, `link-${cli}`)), 'run.sh');
      ok(run(['cp', '-L', `${name}:/copied/link`, path.join(d.dir, `linkL-${cli}`)]));
      assert.equal(fs.readFileSync(path.join(d.dir, `linkL-${cli}`), 'utf8'), '#!/bin/sh\necho run\n');
      // A tar on stdout, and a missing path.
      const tarOut = path.join(d.dir, `out-${cli}.tar`);
      const r = spawnSync(cli === 'docker' ? '/usr/local/bin/docker' : process.execPath, [...(cli === 'docker' ? [] : [path.join(__dirname, '..', '..', '..', 'bin', 'berth')]), 'cp', `${name}:/copied/nested`, '-'], {
        env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host },
      });
      assert.equal(r.status, 0, String(r.stderr));
      fs.writeFileSync(tarOut, r.stdout);
      assert.deepEqual([...listTar(tarOut).keys()].sort(), ['nested', 'nested/deeper', 'nested/deeper/file.txt']);
      // The whole root: to a new directory (which takes its content) and into an existing one.
      const rootNew = path.join(d.dir, `root-new-${cli}`);
      ok(run(['cp', `${name}:/`, rootNew]), 'cp the root out');
      assert.equal(fs.readFileSync(path.join(rootNew, 'copied', 'secret'), 'utf8'), 'top secret\n');
      assert.equal(fs.lstatSync(path.join(rootNew, 'bin', 'busybox')).isFile(), true);
      const rootOld = path.join(d.dir, `root-old-${cli}`);
      fs.mkdirSync(rootOld);
      ok(run(['cp', `${name}:/`, rootOld]), 'cp the root into a directory');
      assert.equal(fs.readlinkSync(path.join(rootOld, 'copied', 'link')), 'run.sh');
      // A tar on stdin is extracted into an existing directory.
      const bin = cli === 'docker' ? '/usr/local/bin/docker' : `${process.execPath} ${path.join(__dirname, '..', '..', '..', 'bin', 'berth')}`;
      const piped = spawnSync('sh', ['-c', `tar -C ${tree} -cf - nested | ${bin} cp - ${name}:/root`], { env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host }, encoding: 'utf8' });
      assert.equal(piped.status, 0, piped.stderr);
      const fromStdin = path.join(d.dir, `stdin-${cli}`);
      ok(run(['cp', `${name}:/root/nested/deeper/file.txt`, fromStdin]));
      assert.equal(fs.readFileSync(fromStdin, 'utf8'), 'deep\n');
      const notDir = spawnSync('sh', ['-c', `tar -C ${tree} -cf - nested | ${bin} cp - ${name}:/copied/run.sh`], { env: { ...process.env, DOCKER_HOST: d.host, BERTH_HOST: d.host }, encoding: 'utf8' });
      assert.equal(notDir.status, 1);
      assert.match(notDir.stderr, /destination "cp-run-\w+:\/copied\/run\.sh" must be a directory/);
      // A file never replaces a directory (nor the reverse).
      fs.mkdirSync(path.join(d.dir, `clash-${cli}`, 'nested'), { recursive: true });
      fs.writeFileSync(path.join(d.dir, `clash-${cli}`, 'nested', 'deeper'), 'a file now');
      const refused = run(['cp', path.join(d.dir, `clash-${cli}`, 'nested'), `${name}:/copied/`]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /cannot overwrite directory "\/copied\/nested\/deeper" with non-directory "nested\/deeper"/);
      const missing = run(['cp', `${name}:/no/such/file`, path.join(d.dir, 'x')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Could not find the file \/no\/such\/file in container cp-run-/);
      ok(run(['rm', '-f', name]));
    });

    test(`${cli}: cp into a stopped container, then start sees the files`, () => {
      const name = `cp-stopped-${cli}`;
      ok(run(['create', '--name', name, 'busybox', 'sh', '-c', 'ls -ln /dst/tree; cat /dst/tree/nested/deeper/file.txt; /dst/tree/link']));
      ok(run(['cp', tree, `${name}:/dst`]), 'cp into a created container'); // /dst does not exist: it takes the tree's content
      ok(run(['cp', tree, `${name}:/dst/`]), 'cp into the now existing dir');
      const out = ok(run(['start', '-a', name]), 'start');
      assert.match(out, /-rwxr-xr-x\s+1\s+0\s+0\s+\d+ .* run\.sh/);
      assert.match(out, /-rw-------\s+1\s+0\s+0\s+\d+ .* secret/);
      assert.match(out, /lrwxrwxrwx .* link -> run\.sh/);
      assert.match(out, /deep\nrun\n$/);
      ok(run(['rm', name]));
    });

    test(`${cli}: cp -a keeps the owner; a path with .. or a symlink stays inside the container`, () => {
      const name = `cp-own-${cli}`;
      ok(run(['create', '--name', name, 'busybox', 'sh', '-c', 'ln -s ../../../../.. /esc; ln -s / /abs']));
      ok(run(['start', '-a', name]));
      const owned = path.join(d.dir, `owned-${cli}`);
      fs.writeFileSync(owned, 'mine\n');
      fs.chownSync(owned, 1234, 5678);
      ok(run(['cp', '-a', owned, `${name}:/tmp/owned-a`]));
      const tar = path.join(d.dir, `own-${cli}.tar`);
      const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', '..', 'bin', 'berth'), 'cp', `${name}:/tmp/owned-a`, '-'], { env: { ...process.env, BERTH_HOST: d.host } });
      fs.writeFileSync(tar, r.stdout);
      assert.match(listTar(tar).get('owned-a') ?? '', / 1234\/5678$/);
      // With a User, -a gives the files to that user (Docker's tarCopyOptions), looked up in the container.
      const withUser = `cp-user-${cli}`;
      ok(run(['create', '--name', withUser, '--user', 'user', 'busybox', 'true']));
      ok(run(['cp', '-a', owned, `${withUser}:/tmp/as-user`]));
      ok(run(['cp', owned, `${withUser}:/tmp/as-is`]));
      const userUpper = path.join(d.dataRoot, 'containers', ok(run(['inspect', '-f', '{{.Id}}', withUser])).trim(), 'upper', 'tmp');
      assert.deepEqual([fs.statSync(path.join(userUpper, 'as-user')).uid, fs.statSync(path.join(userUpper, 'as-user')).gid], [1000, 1000]);
      // Without -a: berth writes root's; the docker CLI sends the file's owner, which the daemon keeps.
      assert.equal(fs.statSync(path.join(userUpper, 'as-is')).uid, cli === 'berth' ? 0 : 1234);
      ok(run(['rm', withUser]));
      // Escapes: through a relative symlink, an absolute one, and '..' beyond the root.
      const marker = `berth-escape-${cli}-${process.pid}`;
      const src = path.join(d.dir, marker);
      fs.writeFileSync(src, 'inside\n');
      ok(run(['cp', src, `${name}:/esc/tmp/`]), 'cp through ../ symlink');
      ok(run(['cp', src, `${name}:/abs/root/`]), 'cp through / symlink');
      ok(run(['cp', src, `${name}:/../../../../home/`]), 'cp through ..');
      for (const host of ['/tmp', '/root', '/home']) assert.equal(fs.existsSync(path.join(host, marker)), false, `escaped into ${host}`);
      const upper = path.join(d.dataRoot, 'containers', ok(run(['inspect', '-f', '{{.Id}}', name])).trim(), 'upper');
      for (const inside of ['tmp', 'root', 'home']) assert.equal(fs.readFileSync(path.join(upper, inside, marker), 'utf8'), 'inside\n');
      // Reading: the container's /etc/passwd, not the host's.
      const back = path.join(d.dir, `passwd-${cli}`);
      ok(run(['cp', `${name}:/esc/etc/passwd`, back]));
      assert.match(fs.readFileSync(back, 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh\nuser:x:1000/);
      ok(run(['rm', name]));
    });

    test(`${cli}: cp honours volumes and read-only binds inside the container`, () => {
      const name = `cp-vol-${cli}`;
      const ro = path.join(d.dir, `ro-${cli}`);
      fs.mkdirSync(ro);
      ok(run(['create', '--name', name, '-v', `cpvol-${cli}:/data`, '-v', `${ro}:/ro:ro`, 'busybox', 'cat', '/data/in-volume']));
      const src = path.join(d.dir, `in-volume`);
      fs.writeFileSync(src, 'volume data\n');
      ok(run(['cp', src, `${name}:/data/`]));
      assert.equal(fs.readFileSync(path.join(d.dataRoot, 'volumes', `cpvol-${cli}`, '_data', 'in-volume'), 'utf8'), 'volume data\n');
      assert.equal(ok(run(['start', '-a', name])), 'volume data\n');
      const r = run(['cp', src, `${name}:/ro/`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /read-only/);
      assert.equal(fs.readdirSync(ro).length, 0);
      ok(run(['rm', '-v', name]));
      ok(run(['volume', 'rm', `cpvol-${cli}`]));
      // A running container's tmpfs is reached through its own mount namespace.
      const t = `cp-tmpfs-${cli}`;
      ok(run(['run', '-d', '--name', t, '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'echo in-tmpfs > /scratch/f; sleep 300']));
      let got = '';
      for (let i = 0; i < 50 && got !== 'in-tmpfs\n'; i++) {
        const out = path.join(d.dir, `tmpfs-${cli}-${i}`);
        if (run(['cp', `${t}:/scratch/f`, out]).code === 0) got = fs.readFileSync(out, 'utf8');
      }
      assert.equal(got, 'in-tmpfs\n');
      ok(run(['cp', src, `${t}:/scratch/`]));
      const upper = path.join(d.dataRoot, 'containers', ok(run(['inspect', '-f', '{{.Id}}', t])).trim(), 'upper');
      assert.equal(fs.existsSync(path.join(upper, 'scratch', 'in-volume')), false, 'written to the tmpfs, not the rootfs');
      ok(run(['rm', '-f', t]));
    });

    test(`${cli}: diff lists A/C/D; commit then run sees the change; export holds it`, () => {
      const name = `changes-${cli}`;
      ok(run(['run', '--name', name, 'busybox', 'sh', '-c', 'echo added > /added; echo extra:x:9:9::/:/bin/sh >> /etc/passwd; rm /etc/group']));
      assert.equal(ok(run(['diff', name])), 'A /added\nC /etc\nD /etc/group\nC /etc/passwd\n');
      const id = ok(run(['commit', '-m', 'my change', '-a', 'tester', '--change', 'CMD ["cat", "/added"]', '--change', 'ENV FOO=bar', name, `committed-${cli}:v1`])).trim();
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      assert.equal(ok(run(['run', '--rm', `committed-${cli}:v1`])), 'added\n');
      assert.equal(ok(run(['run', '--rm', `committed-${cli}:v1`, 'sh', '-c', 'tail -1 /etc/passwd; test -e /etc/group || echo no group; echo $FOO'])), 'extra:x:9:9::/:/bin/sh\nno group\nbar\n');
      assert.equal(ok(run(['image', 'inspect', '-f', '{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}', `committed-${cli}:v1`])).trim(), 'tester|my change|["cat","/added"]');
      const hist = ok(run(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', `committed-${cli}:v1`])).split('\n')[0];
      assert.match(hist, /^sh -c echo added > \/added.*\|my change$/);
      // The runtime's mount points (/proc, /etc/hosts...) are not part of the commit.
      const layers = JSON.parse(ok(run(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', `committed-${cli}:v1`]))) as string[];
      assert.equal(layers.length, 2);
      const exported = path.join(d.dir, `export-${cli}.tar`);
      ok(run(['export', '-o', exported, name]));
      const entries = listTar(exported);
      assert.equal(entries.has('added'), true);
      assert.equal(entries.has('etc/group'), false);
      const passwd = spawnSync('tar', ['-xOf', exported, 'etc/passwd'], { encoding: 'utf8' }).stdout;
      assert.match(passwd, /extra:x:9:9/);
      ok(run(['rm', name]));
      ok(run(['rmi', `committed-${cli}:v1`]));
    });

    test(`${cli}: container prune removes only stopped containers`, () => {
      ok(run(['run', '-d', '--name', `alive-${cli}`, 'busybox', 'sleep', '300']));
      ok(run(['create', '--name', `created-${cli}`, 'busybox', 'true']));
      ok(run(['run', '--name', `exited-${cli}`, '--label', 'prune=me', 'busybox', 'sh', '-c', 'echo 12345 > /f']));
      ok(run(['run', '--name', `kept-${cli}`, 'busybox', 'true']));
      // A label filter narrows it down.
      let out = ok(run(['container', 'prune', '-f', '--filter', 'label=prune=me']));
      const exitedGone = ok(run(['ps', '-a', '--format', '{{.Names}}'])).split('\n');
      assert.equal(exitedGone.includes(`exited-${cli}`), false);
      assert.equal(exitedGone.includes(`kept-${cli}`), true);
      assert.match(out, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: \d+(\.\d+)?k?B\n$/);
      out = ok(run(['container', 'prune', '-f']));
      assert.match(out, /Total reclaimed space: /);
      const names = ok(run(['ps', '-a', '--format', '{{.Names}}'])).split('\n').filter(Boolean);
      assert.deepEqual(
        names.filter((n) => n.endsWith(`-${cli}`)),
        [`alive-${cli}`],
      );
      ok(run(['rm', '-f', `alive-${cli}`]));
    });

    test(`${cli}: image prune takes dangling images, -a every unused one`, () => {
      ok(run(['run', '--name', `img-src-${cli}`, 'busybox', 'touch', '/x']));
      const dangling = ok(run(['commit', `img-src-${cli}`])).trim();
      ok(run(['commit', `img-src-${cli}`, `tagged-${cli}`]));
      const out = ok(run(['image', 'prune', '-f']));
      assert.match(out, new RegExp(`^Deleted Images:\\ndeleted: ${dangling}\\n\\nTotal reclaimed space: `));
      ok(run(['rm', `img-src-${cli}`]));
      const all = ok(run(['image', 'prune', '-a', '-f']));
      assert.match(all, new RegExp(`untagged: tagged-${cli}:latest\\ndeleted: sha256:`));
      const left = ok(run(['images', '--format', '{{.Repository}}'])).split('\n').filter(Boolean);
      assert.deepEqual(left, [], 'no container uses busybox now');
      d.importBusybox();
    });
  }

  test('system df: totals agree with the images, containers and volumes they count', async () => {
    const c = d.docker(['run', '--name', 'df-c', '-v', '/v', 'busybox', 'sh', '-c', 'head -c 3000 /bin/busybox > /v/f; head -c 5000 /bin/busybox > /f']);
    ok(c);
    const df = JSON.parse((await d.request('GET', '/system/df')).body) as {
      LayersSize: number;
      Images: { Id: string; Size: number; SharedSize: number; Containers: number }[];
      Containers: { Id: string; SizeRw: number; SizeRootFs: number }[];
      Volumes: { Name: string; UsageData: { Size: number; RefCount: number } }[];
    };
    const images = JSON.parse((await d.request('GET', '/images/json')).body) as { Id: string; Size: number }[];
    assert.deepEqual(df.Images.map((i) => [i.Id, i.Size]).sort(), images.map((i) => [i.Id, i.Size]).sort());
    assert.equal(df.LayersSize, images[0].Size, 'one image: its layers are all there is');
    const cont = df.Containers.find((x) => x.SizeRw > 0)!;
    assert.equal(cont.SizeRw, 5000);
    assert.equal(cont.SizeRootFs, 5000 + images[0].Size);
    assert.deepEqual(df.Volumes.map((v) => v.UsageData), [{ Size: 3000, RefCount: 1 }]);
    assert.equal(df.Images[0].Containers, 1);
    for (const cli of ['docker', 'berth'] as const) {
      const rows = ok(cli === 'docker' ? d.docker(['system', 'df']) : d.berth(['system', 'df'])).split('\n');
      assert.match(rows[0], /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
      assert.match(rows[1], /^Images +1 +1 +1\.\d+MB +0B \(0%\)$/);
      assert.match(rows[2], /^Containers +1 +0 +5kB +5kB \(100%\)$/);
      assert.match(rows[3], /^Local Volumes +1 +1 +3kB +0B \(0%\)$/);
    }
    const v = ok(d.berth(['system', 'df', '-v']));
    assert.match(v, /Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nbusybox +latest /);
    assert.match(v, /Local Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n[0-9a-f]{64} +1 +3kB\n/);
    const pruned = ok(d.berth(['system', 'prune', '-f', '--volumes']));
    assert.match(pruned, /Deleted Containers:\n[0-9a-f]{64}\n/);
    assert.match(pruned, /Deleted Volumes:\n[0-9a-f]{64}\n/);
    assert.match(pruned, /Total reclaimed space: 8kB\n$/);
    assert.match(ok(d.docker(['system', 'prune', '-f'])), /Total reclaimed space: 0B\n$/);
  });

  test('commit of a running container pauses it for the commit and resumes it', () => {
    ok(d.docker(['run', '-d', '--name', 'live-commit', 'busybox', 'sh', '-c', 'echo live > /state; sleep 300']));
    let out = '';
    for (let i = 0; i < 50 && out !== 'live\n'; i++) out = spawnSync('sh', ['-c', `DOCKER_HOST=${d.host} /usr/local/bin/docker cp live-commit:/state - 2>/dev/null | tar -xO`], { encoding: 'utf8' }).stdout;
    assert.equal(out, 'live\n');
    ok(d.docker(['commit', 'live-commit', 'live-img']));
    assert.equal(ok(d.docker(['inspect', '-f', '{{.State.Status}}', 'live-commit'])).trim(), 'running');
    const pid = Number(ok(d.docker(['inspect', '-f', '{{.State.Pid}}', 'live-commit'])).trim());
    // The freezer says THAWED again (cgroup v1; v2's cgroup.freeze reads 0).
    const cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const v1 = cg.find((l) => l.split(':')[1] === 'freezer');
    const frozen = v1 ? fs.readFileSync(`/sys/fs/cgroup/freezer${v1.split(':')[2]}/freezer.state`, 'utf8').trim() : fs.readFileSync(`/sys/fs/cgroup${cg.find((l) => l.startsWith('0::'))!.slice(3)}/cgroup.freeze`, 'utf8').trim();
    assert.ok(frozen === 'THAWED' || frozen === '0', `freezer state ${frozen}`);
    assert.equal(ok(d.docker(['run', '--rm', 'live-img', 'cat', '/state'])), 'live\n');
    ok(d.docker(['rm', '-f', 'live-commit']));
    ok(d.docker(['rmi', 'live-img']));
  });

  test('a client that stops reading an export or a cp releases the container (no stuck lock, no mount left)', () => {
    ok(d.docker(['create', '--name', 'gone-reader', 'busybox', 'true']));
    const berth = `${process.execPath} ${path.join(__dirname, '..', '..', '..', 'bin', 'berth')}`;
    for (const cmd of [`${berth} export gone-reader | head -c 100 >/dev/null`, `${berth} cp gone-reader:/bin - | head -c 100 >/dev/null`]) {
      spawnSync('sh', ['-c', cmd], { env: { ...process.env, BERTH_HOST: d.host }, timeout: 60_000 });
    }
    // Both need the container's lock: they hang if a dead transfer still holds it.
    assert.equal(ok(d.docker(['start', '-a', 'gone-reader'], { timeout: 30_000 })), '');
    ok(d.docker(['rm', 'gone-reader'], { timeout: 30_000 }));
    const merged = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(path.join(d.dataRoot, 'containers')));
    assert.deepEqual(merged, []);
  });

  test('API: HEAD archive gives the stat header, 404 for a missing path; PUT refuses a tar leaving the directory', async () => {
    ok(d.docker(['create', '--name', 'api-c', 'busybox', 'true']));
    const head = await d.request('HEAD', '/containers/api-c/archive?path=/etc/passwd');
    assert.equal(head.status, 200);
    const st = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.equal(st.name, 'passwd');
    assert.equal(st.mode, 0o644);
    assert.equal(typeof st.mtime, 'string');
    const dir = await d.request('HEAD', '/containers/api-c/archive?path=/bin/sh');
    const link = JSON.parse(Buffer.from(String(dir.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    assert.equal(link.linkTarget, '/bin/busybox');
    assert.equal(Number(link.mode) & (1 << 27), 1 << 27, 'ModeSymlink');
    assert.equal((await d.request('HEAD', '/containers/api-c/archive?path=/nope')).status, 404);
    assert.equal((await d.request('GET', '/containers/api-c/archive?path=/nope')).status, 404);
    assert.equal((await d.request('PUT', '/containers/api-c/archive?path=/etc/passwd', Buffer.alloc(1024))).status, 400);
    // A hand-made tar whose entry climbs out with '..'.
    const evil = path.join(d.dir, 'evil.tar');
    spawnSync('python3', ['-c', `import tarfile,io\nt=tarfile.open('${evil}','w')\ni=tarfile.TarInfo('../../../../tmp/berth-evil-${process.pid}')\ni.size=1\nt.addfile(i,io.BytesIO(b'x'))\nt.close()`]);
    const put = await d.request('PUT', '/containers/api-c/archive?path=/tmp', fs.readFileSync(evil), { 'Content-Type': 'application/x-tar' });
    assert.equal(put.status, 400, put.body);
    assert.equal(fs.existsSync(`/tmp/berth-evil-${process.pid}`), false);
    ok(d.docker(['rm', 'api-c']));
  });
});
