/**
 * A container's HostConfig.LogConfig: the drivers berth accepts and their options, checked at
 * create as Docker checks them. Whatever the name, berth stores output in conmon's k8s-file
 * format and serves `logs` with json-file's semantics; "local" only differs in its defaults
 * (rotation on unless set otherwise), "none" keeps nothing that `logs` may read.
 */
import { invalidArgument } from '../core/errors';
import { parseBytes } from '../util/units';

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface Rotation {
  maxSize: number; // bytes; 0 = unlimited
  maxFile: number;
}

const DRIVER_OPTS: Record<string, string[]> = {
  'json-file': ['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'],
  local: ['max-size', 'max-file', 'compress'],
  none: [],
};

/** Docker's local driver keeps 5 files of 20 MB unless told otherwise. */
const LOCAL_DEFAULTS: Rotation = { maxSize: 20 * 1024 * 1024, maxFile: 5 };

/** The normalised LogConfig to store; throws a 400 for unknown drivers, options or bad values. */
export function validateLogConfig(raw: unknown): LogConfig {
  const lc = (raw && typeof raw === 'object' ? raw : {}) as { Type?: unknown; Config?: unknown };
  const type = typeof lc.Type === 'string' && lc.Type !== '' ? lc.Type : 'json-file';
  const allowed = DRIVER_OPTS[type];
  if (!allowed) throw invalidArgument(`logger: no log driver named '${type}' is registered`);
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries((lc.Config && typeof lc.Config === 'object' ? lc.Config : {}) as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw invalidArgument(`unknown log opt '${k}' for ${type} log driver`);
    config[k] = String(v);
  }
  rotationOf({ Type: type, Config: config }); // validates max-size / max-file
  if (config.compress !== undefined && !/^(1|0|t|f|true|false|TRUE|FALSE|True|False)$/.test(config.compress)) {
    throw invalidArgument(`error reading compress log option: strconv.ParseBool: parsing ${JSON.stringify(config.compress)}: invalid syntax`);
  }
  for (const k of ['labels-regex', 'env-regex']) {
    if (config[k] === undefined) continue;
    try {
      new RegExp(config[k]);
    } catch (e) {
      throw invalidArgument(`error parsing ${k}: ${(e as Error).message}`);
    }
  }
  return { Type: type, Config: config };
}

/** How the log is rotated: max-size 0 means never. */
export function rotationOf(lc: LogConfig): Rotation {
  // "none": berth still needs the output for attach; a small file that `logs` never reads.
  if (lc.Type === 'none') return { maxSize: 1 << 20, maxFile: 1 };
  const def = lc.Type === 'local' ? LOCAL_DEFAULTS : { maxSize: 0, maxFile: 1 };
  let maxSize = def.maxSize;
  let maxFile = def.maxFile;
  const ms = lc.Config['max-size'];
  if (ms !== undefined && ms !== '') {
    if (ms === '-1') maxSize = 0;
    else {
      try {
        maxSize = parseBytes(ms);
      } catch (e) {
        throw invalidArgument((e as Error).message);
      }
      if (maxSize <= 0) throw invalidArgument(`invalid size: '${ms}'`);
    }
  }
  const mf = lc.Config['max-file'];
  if (mf !== undefined && mf !== '') {
    if (!/^-?\d+$/.test(mf)) throw invalidArgument(`strconv.Atoi: parsing ${JSON.stringify(mf)}: invalid syntax`);
    maxFile = Number(mf);
    if (maxFile < 1) throw invalidArgument('max-file cannot be less than 1');
    if (maxFile > 1 && maxSize === 0 && lc.Type === 'json-file') throw invalidArgument('max-file can only be used with max-size');
  }
  return { maxSize, maxFile };
}

/** Whether `logs` can read this container's output (Docker: not with driver none). */
export function readable(lc: LogConfig | undefined): boolean {
  return (lc?.Type ?? 'json-file') !== 'none';
}

/**
 * The attributes `logs --details` shows before each line: the container labels named by the
 * `labels`/`labels-regex` options and the environment variables named by `env`/`env-regex`,
 * as "k=v,k2=v2" sorted by key (json-file's extra attributes).
 */
export function detailsPrefix(lc: LogConfig | undefined, labels: Record<string, string>, env: string[]): string {
  const o = lc?.Config ?? {};
  const attrs = new Map<string, string>();
  const names = (s: string | undefined): string[] => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
  for (const k of names(o.labels)) if (k in labels) attrs.set(k, labels[k]);
  if (o['labels-regex']) {
    const re = new RegExp(o['labels-regex']);
    for (const [k, v] of Object.entries(labels)) if (re.test(k)) attrs.set(k, v);
  }
  const envMap = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) envMap.set(e.slice(0, i), e.slice(i + 1));
  }
  for (const k of names(o.env)) if (envMap.has(k)) attrs.set(k, envMap.get(k)!);
  if (o['env-regex']) {
    const re = new RegExp(o['env-regex']);
    for (const [k, v] of envMap) if (re.test(k)) attrs.set(k, v);
  }
  return [...attrs.keys()]
    .sort()
    .map((k) => `${k}=${attrs.get(k)}`)
    .join(',');
}
