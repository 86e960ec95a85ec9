import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerSummary, ImageSummary } from '../client/types';
import { renderList } from './output';
import {
  CONTAINER_HEADERS,
  DEFAULT_CONTAINER_TABLE,
  DEFAULT_IMAGE_TABLE,
  DEFAULT_HISTORY_TABLE,
  HISTORY_HEADERS,
  IMAGE_HEADERS,
  containerRow,
  displayablePorts,
  ellipsis,
  goQuote,
  historyRow,
  imageRows,
  labelHeader,
  truncateID,
} from './rows';

const NOW = Date.UTC(2025, 0, 10, 12, 0, 0);
const sec = (ms: number): number => Math.floor(ms / 1000);
const ID = 'a'.repeat(12) + 'b'.repeat(52);

const web: ContainerSummary = {
  Id: ID,
  Names: ['/web'],
  Image: 'busybox',
  ImageID: 'sha256:' + 'c'.repeat(64),
  Command: "sh -c 'while true; do echo hello world; sleep 1; done'",
  Created: sec(NOW) - 3600,
  Ports: [],
  Labels: { c: 'd', a: 'b' },
  State: 'running',
  Status: 'Up 59 minutes',
  NetworkSettings: { Networks: { none: {} } },
  Mounts: [],
  SizeRw: 12,
  SizeRootFs: 4500000,
};

const old: ContainerSummary = {
  Id: 'd'.repeat(64),
  Names: ['/old'],
  Image: 'sha256:' + 'e'.repeat(64),
  ImageID: 'sha256:' + 'e'.repeat(64),
  Command: 'true',
  Created: sec(NOW) - 86400 * 3,
  State: 'exited',
  Status: 'Exited (3) 2 days ago',
};

test('truncateID and ellipsis', () => {
  assert.equal(truncateID('sha256:' + 'f'.repeat(64)), 'ffffffffffff');
  assert.equal(truncateID('<missing>'), '<missing>');
  assert.equal(ellipsis("sh -c 'while true; do echo'", 20), "sh -c 'while true; …");
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('日本語日本語日本語日本語', 10), '日本語日…');
});

test('goQuote quotes like strconv.Quote', () => {
  assert.equal(goQuote('echo "hi"\n'), '"echo \\"hi\\"\\n"');
  assert.equal(goQuote('a\x01b'), '"a\\x01b"');
});

test('ps row: docker truncation of ID, command, image', () => {
  const r = containerRow(web, { trunc: true, now: NOW });
  assert.equal(r.ID, 'aaaaaaaaaaaa');
  assert.equal(r.Command, '"sh -c \'while true; …"');
  assert.equal(r.Image, 'busybox');
  assert.equal(r.Names, 'web');
  assert.equal(r.RunningFor, 'About an hour ago');
  assert.equal(r.Status, 'Up 59 minutes');
  assert.equal(r.State, 'running');
  assert.equal(r.Labels, 'a=b,c=d');
  assert.equal(r.Label('a'), 'b');
  assert.equal(r.Label('zz'), '');
  assert.equal(r.Networks, 'none');
  assert.equal(r.Size, '12B (virtual 4.5MB)');
  assert.equal(r.LocalVolumes, '0');
  const o = containerRow(old, { trunc: true, now: NOW });
  assert.equal(o.Image, 'eeeeeeeeeeee', 'an image given by ID shows as a short ID');
  assert.equal(o.Size, '0B');
  assert.equal(o.RunningFor, '3 days ago');
  const full = containerRow(web, { trunc: false, now: NOW });
  assert.equal(full.ID, ID);
  assert.equal(full.Command, `"${web.Command}"`);
  assert.equal(containerRow(old, { trunc: false, now: NOW }).Image, old.Image);
});

test('ps row: familiar image names, names without legacy links', () => {
  const c: ContainerSummary = { ...web, Image: 'docker.io/library/busybox:1.36@sha256:' + '1'.repeat(64), Names: ['/other/link', '/real'] };
  const r = containerRow(c, { trunc: true, now: NOW });
  assert.equal(r.Image, 'busybox:1.36');
  assert.equal(r.Names, 'real');
  assert.equal(containerRow(c, { trunc: false, now: NOW }).Names, 'other/link,real');
});

test('ps row JSON: sorted keys, HTML-escaped like json.Marshal, no Label method', () => {
  const r = containerRow({ ...web, Command: 'a<b' }, { trunc: true, now: NOW });
  const json = r.marshalJSON();
  assert.ok(json.startsWith('{"Command":"\\"a\\u003cb\\"","CreatedAt":'));
  const keys = Object.keys(JSON.parse(json));
  assert.deepEqual(keys, [...keys].sort());
  assert.ok(keys.includes('Platform') && !keys.includes('Label'));
});

test('ps default table', () => {
  const rows = [web, old].map((c) => containerRow(c, { trunc: true, now: NOW }));
  const out = renderList(DEFAULT_CONTAINER_TABLE, rows, { ...CONTAINER_HEADERS, Label: labelHeader });
  assert.equal(
    out,
    'CONTAINER ID   IMAGE          COMMAND                  CREATED             STATUS                  PORTS     NAMES\n' +
      'aaaaaaaaaaaa   busybox        "sh -c \'while true; …"   About an hour ago   Up 59 minutes                     web\n' +
      'dddddddddddd   eeeeeeeeeeee   "true"                   3 days ago          Exited (3) 2 days ago             old\n',
  );
});

test('ps custom formats: Label header, json, plain', () => {
  const rows = [containerRow(web, { trunc: true, now: NOW })];
  const headers = { ...CONTAINER_HEADERS, Label: labelHeader };
  assert.equal(renderList('table {{.Names}}\t{{.Label "com.example.my-key"}}', rows, headers), 'NAMES     my key\nweb       \n');
  assert.equal(renderList('{{.Names}} {{.Status}}', rows, headers), 'web Up 59 minutes\n');
  assert.ok(renderList('json', rows, headers).startsWith('{"Command":'));
  assert.throws(() => renderList('{{.Nope}}', rows, headers), /can't evaluate field Nope in type \*formatter.ContainerContext/);
});

test('ports as docker groups them', () => {
  assert.equal(
    displayablePorts([
      { PrivatePort: 80, PublicPort: 8080, IP: '0.0.0.0', Type: 'tcp' },
      { PrivatePort: 9000, Type: 'udp' },
      { PrivatePort: 9001, Type: 'udp' },
      { PrivatePort: 443, PublicPort: 443, IP: '127.0.0.1', Type: 'tcp' },
    ]),
    '127.0.0.1:443->443/tcp, 9000-9001/udp, 0.0.0.0:8080->80/tcp',
  );
  assert.equal(displayablePorts(null), '');
});

const busybox: ImageSummary = {
  Id: 'sha256:' + 'c'.repeat(64),
  RepoTags: ['busybox:latest', 'mybox:1'],
  RepoDigests: ['busybox@sha256:' + 'f'.repeat(64)],
  Created: sec(NOW) - 86400 * 40,
  Size: 4261550,
  SharedSize: -1,
  Containers: -1,
};

test('image rows: one per repository and tag; digests on request', () => {
  const opts = { trunc: true, now: NOW, digests: false, needDigest: false };
  const rows = imageRows(busybox, opts);
  assert.deepEqual(
    rows.map((r) => [r.Repository, r.Tag, r.ID, r.Digest, r.Size, r.CreatedSince]),
    [
      ['busybox', 'latest', 'cccccccccccc', '<none>', '4.26MB', '5 weeks ago'],
      ['mybox', '1', 'cccccccccccc', '<none>', '4.26MB', '5 weeks ago'],
    ],
  );
  const withDigests = imageRows(busybox, { ...opts, digests: true, needDigest: true });
  assert.equal(withDigests[0].Digest, 'sha256:' + 'f'.repeat(64));
  assert.equal(withDigests[1].Digest, '<none>');
  assert.equal(imageRows(busybox, { ...opts, trunc: false })[0].ID, busybox.Id);
});

test('image rows: dangling images and digest-only references', () => {
  const opts = { trunc: true, now: NOW, digests: false, needDigest: false };
  const dangling = imageRows({ Id: 'sha256:' + 'e'.repeat(64), RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'], Created: sec(NOW) - 60, Size: 1234 }, opts);
  assert.deepEqual(dangling.map((r) => [r.Repository, r.Tag, r.Size, r.CreatedSince]), [['<none>', '<none>', '1.23kB', 'About a minute ago']]);
  const digestOnly: ImageSummary = { Id: 'sha256:' + '9'.repeat(64), RepoTags: [], RepoDigests: ['alpine@sha256:' + '2'.repeat(64)], Created: sec(NOW), Size: 1 };
  assert.deepEqual(imageRows(digestOnly, opts).map((r) => [r.Repository, r.Tag, r.Digest]), [['alpine', '<none>', '']]);
  assert.deepEqual(imageRows(digestOnly, { ...opts, digests: true, needDigest: true }).map((r) => r.Digest), ['sha256:' + '2'.repeat(64)]);
});

test('images default table', () => {
  const rows = imageRows(busybox, { trunc: true, now: NOW, digests: false, needDigest: false });
  assert.equal(
    renderList(DEFAULT_IMAGE_TABLE, rows, IMAGE_HEADERS),
    'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n' +
      'busybox      latest    cccccccccccc   5 weeks ago   4.26MB\n' +
      'mybox        1         cccccccccccc   5 weeks ago   4.26MB\n',
  );
  assert.equal(renderList('json', rows, IMAGE_HEADERS).split('\n')[0].includes('"Digest":"\\u003cnone\\u003e"'), true);
});

test('history rows: human and raw, truncated CreatedBy', () => {
  const h = { Id: '<missing>', Created: sec(NOW) - 86400 * 41, CreatedBy: '/bin/sh -c #(nop) ADD file:6c2f4a1f1e8e1b4b0d7c9a3f1f2e3d4c5b6a7980 in / ', Size: 4261550, Comment: 'imported from -' };
  const r = historyRow(h, { trunc: true, now: NOW, human: true });
  assert.equal(r.ID, '<missing>');
  assert.equal(r.CreatedBy, '/bin/sh -c #(nop) ADD file:6c2f4a1f1e8e1b4b0…');
  assert.equal(r.Size, '4.26MB');
  assert.equal(r.CreatedSince, '5 weeks ago');
  const raw = historyRow(h, { trunc: false, now: NOW, human: false });
  assert.equal(raw.Size, '4261550');
  assert.equal(raw.CreatedSince, raw.CreatedAt);
  assert.equal(raw.CreatedBy, h.CreatedBy);
  const table = renderList(DEFAULT_HISTORY_TABLE, [r], HISTORY_HEADERS);
  assert.equal(table.split('\n')[0], 'IMAGE       CREATED       CREATED BY                                      SIZE      COMMENT');
});
