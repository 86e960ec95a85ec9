import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { unpackLayer } from '../snapshot/unpack';
import { parseTag, readImageArchive, SaveImage, writeImageArchive } from './archive';

let tmp = '';
before(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-archive-test-'));
});
after(async () => {
  if (tmp) await fsp.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
const fresh = (label: string): string => path.join(tmp, `${label}-${counter++}`);
const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

type Entry = { name: string; data?: string | Buffer; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string };

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.data ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await collected;
  return Buffer.concat(chunks);
}

async function layer(files: Record<string, string>): Promise<Buffer> {
  return makeTar(Object.entries(files).map(([name, data]) => ({ name, data })));
}

function config(diffIds: string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, ...extra }));
}

async function tarEntries(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      const parts: Buffer[] = [];
      for await (const c of e) parts.push(c as Buffer);
      out.set(e.header.name, Buffer.concat(parts));
    }
  })();
  createReadStream(file).pipe(ex);
  await done;
  return out;
}

async function saveFixture(): Promise<{ images: SaveImage[]; layers: Buffer[] }> {
  const dir = fresh('layers');
  await fsp.mkdir(dir);
  const layers = [await layer({ 'etc/os-release': 'base' }), await layer({ 'app/a': 'A' }), await layer({ 'app/b': 'B' })];
  const paths: string[] = [];
  for (const [i, l] of layers.entries()) {
    paths.push(path.join(dir, `layer${i}.tar`));
    await fsp.writeFile(paths[i], l);
  }
  const ids = layers.map((l) => 'sha256:' + hex(l));
  const L = (i: number) => ({ diffId: ids[i], path: paths[i], size: layers[i].length });
  const c1 = config([ids[0], ids[1]]);
  const c2 = config([ids[0], ids[2]], { created: '2024-01-01T00:00:00Z' });
  const c3 = config([ids[0]], { comment: 'untagged' });
  return {
    layers,
    images: [
      { id: 'sha256:' + hex(c1), config: c1, layers: [L(0), L(1)], repoTags: ['busybox:latest', 'docker.io/library/busybox:1.36'] },
      { id: 'sha256:' + hex(c2), config: c2, layers: [L(0), L(2)], repoTags: ['registry.local:5000/team/app:v1'] },
      { id: 'sha256:' + hex(c3), config: c3, layers: [L(0)], repoTags: [] },
    ],
  };
}

async function writeTo(images: SaveImage[], file: string): Promise<void> {
  await writeImageArchive(images, createWriteStream(file));
}

describe('parseTag', () => {
  it('normalises as Docker does', () => {
    assert.deepEqual(parseTag('busybox'), { full: 'docker.io/library/busybox:latest', familiarName: 'busybox', tag: 'latest' });
    assert.deepEqual(parseTag('user/app:1'), { full: 'docker.io/user/app:1', familiarName: 'user/app', tag: '1' });
    assert.deepEqual(parseTag('localhost:5000/x'), { full: 'localhost:5000/x:latest', familiarName: 'localhost:5000/x', tag: 'latest' });
    assert.equal(parseTag('Upper/case'), null);
    assert.equal(parseTag('a@sha256:' + '0'.repeat(64)), null);
  });
});

describe('writeImageArchive', () => {
  it('writes the Docker 25+ layout with each shared layer once', async () => {
    const { images, layers } = await saveFixture();
    const file = fresh('save') + '.tar';
    await writeTo(images, file);
    const entries = await tarEntries(file);
    const blobNames = [...entries.keys()].filter((n) => n.startsWith('blobs/sha256/') && n.length > 'blobs/sha256/'.length);
    assert.equal(new Set(blobNames).size, blobNames.length);
    for (const l of layers) assert.deepEqual(entries.get(`blobs/sha256/${hex(l)}`), l);
    assert.equal(entries.get('oci-layout')!.toString(), '{"imageLayoutVersion": "1.0.0"}');

    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    assert.deepEqual(manifest[0], {
      Config: `blobs/sha256/${images[0].id.slice(7)}`,
      RepoTags: ['busybox:latest', 'busybox:1.36'],
      Layers: [`blobs/sha256/${hex(layers[0])}`, `blobs/sha256/${hex(layers[1])}`],
    });
    assert.deepEqual(manifest[2].RepoTags, []);
    assert.deepEqual(JSON.parse(entries.get('repositories')!.toString()), {
      busybox: { latest: hex(layers[1]), '1.36': hex(layers[1]) },
      'registry.local:5000/team/app': { v1: hex(layers[2]) },
    });

    const index = JSON.parse(entries.get('index.json')!.toString());
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(index.manifests.length, 4); // two tags, one tag, one untagged
    assert.deepEqual(index.manifests[1].annotations, {
      'io.containerd.image.name': 'docker.io/library/busybox:1.36',
      'org.opencontainers.image.ref.name': '1.36',
    });
    assert.equal(index.manifests[3].annotations, undefined);
    const m = index.manifests[2];
    const mbytes = entries.get(`blobs/sha256/${m.digest.slice(7)}`)!;
    assert.equal(mbytes.length, m.size);
    assert.deepEqual(JSON.parse(mbytes.toString()), {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: images[1].id, size: images[1].config.length },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:' + hex(layers[0]), size: layers[0].length },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:' + hex(layers[2]), size: layers[2].length },
      ],
    });
  });

  it('merges an image listed twice under different tags', async () => {
    const { images } = await saveFixture();
    const file = fresh('twice') + '.tar';
    await writeTo([images[1], { ...images[0], repoTags: ['a:1'] }, { ...images[0], repoTags: ['b:2', 'a:1'] }], file);
    const manifest = JSON.parse((await tarEntries(file)).get('manifest.json')!.toString());
    assert.equal(manifest.length, 2);
    assert.deepEqual(manifest[1].RepoTags, ['a:1', 'b:2']);
  });

  it('refuses a config that does not match the image id, and a layer that does not match its diff id', async () => {
    const { images } = await saveFixture();
    await assert.rejects(writeImageArchive([{ ...images[0], config: Buffer.from('{}') }], createWriteStream(fresh('bad') + '.tar')), /config has digest/);
    const wrong = { ...images[0], layers: [{ ...images[0].layers[0], diffId: 'sha256:' + 'f'.repeat(64) }] };
    await assert.rejects(writeImageArchive([wrong], createWriteStream(fresh('bad') + '.tar')), /has digest/);
  });
});

describe('readImageArchive', () => {
  it('round-trips what writeImageArchive wrote, also gzip-compressed as a whole', async () => {
    const { images, layers } = await saveFixture();
    const file = fresh('rt') + '.tar';
    await writeTo(images, file);
    const gz = file + '.gz';
    await fsp.writeFile(gz, zlib.gzipSync(await fsp.readFile(file)));
    for (const f of [file, gz]) {
      const got = await readImageArchive(createReadStream(f), fresh('rt-work'));
      assert.equal(got.length, 3);
      assert.deepEqual(
        got.map((g) => [g.configDigest, g.repoTags]),
        [
          [images[0].id, ['busybox:latest', 'busybox:1.36']],
          [images[1].id, ['registry.local:5000/team/app:v1']],
          [images[2].id, []],
        ],
      );
      assert.deepEqual(await fsp.readFile(got[1].configPath), images[1].config);
      assert.deepEqual(await fsp.readFile(got[1].layerPaths[0]), layers[0]);
      assert.deepEqual(await fsp.readFile(got[1].layerPaths[1]), layers[2]);
      assert.equal(got[0].layerPaths[0], got[1].layerPaths[0]);
    }
  });

  it('reads the legacy format (<id>/layer.tar, <hex>.json, a symlinked duplicate layer)', async () => {
    const l1 = await layer({ 'bin/sh': 'sh' });
    const l2 = await layer({ 'etc/motd': 'hi' });
    const cfg = config(['sha256:' + hex(l1), 'sha256:' + hex(l2), 'sha256:' + hex(l1)]);
    const [id1, id2, id3] = ['1', '2', '3'].map((c) => c.repeat(64));
    const archive = await makeTar([
      { name: `${id1}/`, type: 'directory' },
      { name: `${id1}/VERSION`, data: '1.0' },
      { name: `${id1}/json`, data: '{}' },
      { name: `${id1}/layer.tar`, data: l1 },
      { name: `${id2}/`, type: 'directory' },
      { name: `${id2}/layer.tar`, data: l2 },
      { name: `${id3}/`, type: 'directory' },
      { name: `${id3}/layer.tar`, type: 'symlink', linkname: `../${id1}/layer.tar` },
      { name: `${hex(cfg)}.json`, data: cfg },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${hex(cfg)}.json`, RepoTags: ['legacy/app:old'], Layers: [`${id1}/layer.tar`, `${id2}/layer.tar`, `${id3}/layer.tar`] }]) },
      { name: 'repositories', data: JSON.stringify({ 'legacy/app': { old: id3 } }) },
    ]);
    const work = fresh('legacy');
    const got = await readImageArchive(Readable.from([archive]), work);
    assert.equal(got.length, 1);
    assert.equal(got[0].configDigest, 'sha256:' + hex(cfg));
    assert.deepEqual(got[0].repoTags, ['legacy/app:old']);
    assert.deepEqual(got[0].layerPaths, [path.join(work, id1, 'layer.tar'), path.join(work, id2, 'layer.tar'), path.join(work, id1, 'layer.tar')]);
    assert.deepEqual(await fsp.readFile(got[0].layerPaths[1]), l2);
    // nothing but regular files and directories was created
    assert.equal(await fsp.lstat(path.join(work, id3, 'layer.tar')).catch(() => null), null);
  });

  it('reads a pure OCI layout with a gzip layer and a multi-platform index', async () => {
    const raw = await layer({ 'hello.txt': 'hello' });
    const gzl = zlib.gzipSync(raw);
    const cfg = config(['sha256:' + hex(raw)]);
    const armCfg = config(['sha256:' + hex(raw)], { architecture: 'arm64' });
    const manifest = (c: Buffer) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:' + hex(c), size: c.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:' + hex(gzl), size: gzl.length }],
        }),
      );
    const m = manifest(cfg);
    const armM = manifest(armCfg);
    const desc = (b: Buffer, mediaType: string, extra: Record<string, unknown> = {}) => ({ mediaType, digest: 'sha256:' + hex(b), size: b.length, ...extra });
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          desc(armM, 'application/vnd.oci.image.manifest.v1+json', { platform: { os: 'linux', architecture: 'arm64' } }),
          desc(m, 'application/vnd.oci.image.manifest.v1+json', { platform: { os: 'linux', architecture: 'amd64' } }),
        ],
      }),
    );
    const index = {
      schemaVersion: 2,
      manifests: [
        desc(nested, 'application/vnd.oci.image.index.v1+json', { annotations: { 'io.containerd.image.name': 'docker.io/library/hello:1', 'org.opencontainers.image.ref.name': '1' } }),
        desc(m, 'application/vnd.oci.image.manifest.v1+json', { annotations: { 'org.opencontainers.image.ref.name': 'quay.io/x/hello:2' } }),
        desc(m, 'application/vnd.oci.image.manifest.v1+json', { annotations: { 'org.opencontainers.image.ref.name': 'bare' } }),
      ],
    };
    const blobs = [gzl, cfg, armCfg, m, armM, nested];
    const archive = await makeTar([
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', data: JSON.stringify(index) },
      ...blobs.map((b) => ({ name: `blobs/sha256/${hex(b)}`, data: b })),
    ]);
    const work = fresh('oci');
    const got = await readImageArchive(Readable.from([archive]), work);
    assert.equal(got.length, 1);
    assert.equal(got[0].configDigest, 'sha256:' + hex(cfg));
    assert.deepEqual(got[0].repoTags, ['hello:1', 'quay.io/x/hello:2']);
    const r = await unpackLayer(createReadStream(got[0].layerPaths[0]), fresh('oci-unpacked'));
    assert.equal(r.diffId, 'sha256:' + hex(raw));
  });

  it('refuses a config whose digest does not match', async () => {
    const l = await layer({ a: 'a' });
    const cfg = config(['sha256:' + hex(l)]);
    const tampered = Buffer.from(cfg.toString().replace('amd64', 'arm64'));
    const docker25 = await makeTar([
      { name: `blobs/sha256/${hex(l)}`, data: l },
      { name: `blobs/sha256/${hex(cfg)}`, data: tampered },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `blobs/sha256/${hex(cfg)}`, RepoTags: [], Layers: [`blobs/sha256/${hex(l)}`] }]) },
    ]);
    await assert.rejects(readImageArchive(Readable.from([docker25]), fresh('corrupt')), /digest/);
    const legacy = await makeTar([
      { name: 'x/layer.tar', data: l },
      { name: `${hex(cfg)}.json`, data: tampered },
      { name: 'manifest.json', data: JSON.stringify([{ Config: `${hex(cfg)}.json`, RepoTags: [], Layers: ['x/layer.tar'] }]) },
    ]);
    await assert.rejects(readImageArchive(Readable.from([legacy]), fresh('corrupt')), /digest/);
  });

  it('refuses malformed archives with clear errors', async () => {
    const l = await layer({ a: 'a' });
    const cfg = config(['sha256:' + hex(l)]);
    const cases: [Entry[], RegExp][] = [
      [[{ name: 'hello', data: 'x' }], /neither manifest\.json nor an OCI image layout/],
      [[{ name: 'manifest.json', data: '[{' }], /manifest\.json is not valid JSON/],
      [[{ name: 'manifest.json', data: '{}' }], /manifest\.json is not a JSON array/],
      [
        [
          { name: 'c.json', data: cfg },
          { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['missing/layer.tar'] }]) },
        ],
        /missing\/layer\.tar" is missing/,
      ],
      [
        [
          { name: 'c.json', data: '{"rootfs":' },
          { name: 'l.tar', data: l },
          { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: ['l.tar'] }]) },
        ],
        /config c\.json is not valid JSON/,
      ],
      [
        [
          { name: 'c.json', data: cfg },
          { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: [], Layers: [] }]) },
        ],
        /lists 1 layers, the manifest 0/,
      ],
      [[{ name: '../escape', data: 'x' }], /escapes the destination/],
      [
        [
          { name: 'evil', type: 'symlink', linkname: '../../../etc' },
          { name: 'c.json', data: cfg },
          { name: 'manifest.json', data: JSON.stringify([{ Config: 'evil/passwd', RepoTags: [], Layers: [] }]) },
        ],
        /escapes the destination/,
      ],
    ];
    for (const [entries, re] of cases) {
      const work = fresh('malformed');
      await assert.rejects(readImageArchive(Readable.from([await makeTar(entries)]), work), re);
    }
    assert.equal(await fsp.lstat(path.join(tmp, 'escape')).catch(() => null), null);
  });
});
