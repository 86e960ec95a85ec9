/**
 * POST /commit: a new image from a container: its image's layers plus one layer made from the
 * container's upper dir (overlay whiteouts become .wh. entries; the runtime's mount points are
 * left out), and a config from the container's (or the request's) with `changes` applied, as
 * Docker's commit merges them.
 */
import { PassThrough } from 'node:stream';
import type { ImageStore } from '../image/store';
import type { ContainerConfigPart, ImageConfig, ImageRecord } from '../image/types';
import { applyChanges } from '../image/changes';
import { formatReference, parseReference, withDefaultTag } from '../image/reference';
import { packDirectory } from '../snapshot/unpack';
import { invalidArgument } from '../core/errors';
import type { ContainerRecord } from './containers';
import { isPureArtifact, runtimePaths } from './changes';

/** sha256 of an empty tar (two zero blocks): a commit that changed nothing. */
const EMPTY_TAR_DIFF = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes: string[];
  /** The request body: a container config whose empty fields the container's fill. */
  config?: Record<string, any> | null;
}

export function lowerDirsOf(store: ImageStore, c: ContainerRecord): string[] {
  return [...c.berth.chain].reverse().map((ch) => store.layerDiffDir(ch));
}

export function mountDestinations(c: ContainerRecord): string[] {
  return [...(c.berth.mounts ?? []).map((m) => m.Destination), ...Object.keys((c.HostConfig.Tmpfs as Record<string, string> | undefined) ?? {})];
}

/** The tag a commit gets, validated before any work. */
export function commitReference(repo?: string, tag?: string): string | undefined {
  if (!repo) {
    if (tag) throw invalidArgument('tag requires a repository name');
    return undefined;
  }
  try {
    const r = parseReference(repo);
    if (r.digest) throw invalidArgument('refusing to create a tag with a digest reference');
    return formatReference(withDefaultTag(tag ? { ...r, tag } : r));
  } catch (e) {
    if (e instanceof Error && !(e as { kind?: string }).kind) throw invalidArgument(e.message);
    throw e;
  }
}

/** Docker's merge(): fields the user's config leaves empty come from the container's. */
function mergeConfig(user: ContainerConfigPart, cont: Record<string, any>): ContainerConfigPart {
  const out: ContainerConfigPart = { ...user };
  if (!out.User) out.User = cont.User || undefined;
  if (!out.Env?.length) out.Env = cont.Env ?? undefined;
  else {
    const keys = new Set(out.Env.map((e) => e.split('=')[0]));
    for (const e of (cont.Env as string[]) ?? []) if (!keys.has(e.split('=')[0])) out.Env.push(e);
  }
  out.Labels = { ...((cont.Labels as Record<string, string>) ?? {}), ...(out.Labels ?? {}) };
  out.ExposedPorts = { ...((cont.ExposedPorts as Record<string, object>) ?? {}), ...(out.ExposedPorts ?? {}) };
  if (!out.Entrypoint?.length) {
    out.Entrypoint = cont.Entrypoint ?? null;
    if (!out.Cmd?.length) out.Cmd = cont.Cmd ?? null;
  }
  if (!out.WorkingDir) out.WorkingDir = cont.WorkingDir || undefined;
  out.Volumes = { ...((cont.Volumes as Record<string, object>) ?? {}), ...(out.Volumes ?? {}) };
  if (!out.StopSignal && cont.StopSignal) out.StopSignal = cont.StopSignal;
  for (const k of ['ExposedPorts', 'Volumes', 'Labels'] as const) if (out[k] && !Object.keys(out[k]!).length) delete out[k];
  return out;
}

/** Picks the image-config fields out of a container config (request body or record). */
function configPart(c: Record<string, any>): ContainerConfigPart {
  const keys = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'OnBuild', 'Healthcheck', 'Shell'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (c[k] !== undefined && c[k] !== null && c[k] !== '') out[k] = c[k];
  return out as ContainerConfigPart;
}

export async function commitContainer(store: ImageStore, c: ContainerRecord, upper: string, parent: ImageRecord | undefined, o: CommitOptions): Promise<ImageRecord> {
  const ref = commitReference(o.repo, o.tag);
  const base = o.config && typeof o.config === 'object' ? configPart(o.config) : {};
  const config = applyChanges(mergeConfig(base, c.Config), o.changes);
  const lowers = lowerDirsOf(store, c);
  const runtime = runtimePaths(mountDestinations(c));
  const pass = new PassThrough();
  const packing = packDirectory(upper, pass, (rel) => isPureArtifact(upper, `/${rel}`, runtime, lowers)).catch((e: Error) => pass.destroy(e));
  const layer = await store.addLayer(c.berth.chain.length ? c.berth.chain[c.berth.chain.length - 1] : null, pass);
  await packing;
  const empty = layer.diffId === EMPTY_TAR_DIFF;
  const now = new Date().toISOString();
  const pc = parent?.config;
  const cfg: ImageConfig = {
    architecture: pc?.architecture ?? 'amd64',
    os: pc?.os ?? 'linux',
    ...(pc?.variant ? { variant: pc.variant } : {}),
    created: now,
    ...(o.author ? { author: o.author } : {}),
    config,
    container: c.Id,
    rootfs: { type: 'layers', diff_ids: [...c.berth.chain.map((ch) => store.getLayer(ch)!.diffId), ...(empty ? [] : [layer.diffId])] },
    history: [
      ...(pc?.history ?? []),
      {
        created: now,
        created_by: [c.Path, ...c.Args].join(' '),
        ...(o.author ? { author: o.author } : {}),
        ...(o.comment ? { comment: o.comment } : {}),
        ...(empty ? { empty_layer: true } : {}),
      },
    ],
  };
  return store.registerImage(Buffer.from(JSON.stringify(cfg)), ref ? [ref] : []);
}
