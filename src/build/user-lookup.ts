/** `--chown=user:group` for COPY/ADD, names resolved in the image being built (top layer first). */
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../core/errors';
import type { ImageStore } from '../image/store';
import { parseGroup, parsePasswd } from '../runtime/user';

function readFromLayers(store: ImageStore, chain: string[], rel: string): string {
  for (const c of [...chain].reverse()) {
    const p = path.join(store.layerDiffDir(c), rel);
    try {
      const st = fs.lstatSync(p);
      if (st.isFile()) return fs.readFileSync(p, 'utf8');
      if (st.isCharacterDevice() && st.rdev === 0) return ''; // whiteout
    } catch {
      /* not in this layer */
    }
  }
  return '';
}

export function parseUser(spec: string, store: ImageStore, chain: string[]): { uid: number; gid: number } {
  const [u, g] = spec.split(':', 2);
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const e = parsePasswd(readFromLayers(store, chain, 'etc/passwd')).find((p) => p.name === u);
    if (!e) throw invalidArgument(`unable to convert uid/gid chown string to host mapping: can't find uid for user ${u}: no such user: ${u}`);
    uid = e.uid;
    gid = e.gid;
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const e = parseGroup(readFromLayers(store, chain, 'etc/group')).find((x) => x.name === g);
      if (!e) throw invalidArgument(`unable to convert uid/gid chown string to host mapping: can't find gid for group ${g}: no such group: ${g}`);
      gid = e.gid;
    }
  }
  return { uid, gid: gid ?? uid };
}
