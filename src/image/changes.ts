/**
 * The Dockerfile instructions that `import --change` and `commit --change` accept, applied to an
 * image's container config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
 * WORKDIR.
 */
import { invalidArgument } from '../core/errors';
import type { ContainerConfigPart } from './types';

function jsonOrShell(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      /* shell form */
    }
  }
  return ['/bin/sh', '-c', t];
}

/** Splits `a=b "c d"=e` or `KEY value words` as Dockerfile ENV/LABEL do. */
function keyValues(rest: string, instr: string): [string, string][] {
  const t = rest.trim();
  const words: string[] = [];
  let cur = '';
  let quote = '';
  let any = false;
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < t.length) cur += t[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (ch === '\\' && i + 1 < t.length) {
      cur += t[++i];
    } else if (/\s/.test(ch)) {
      if (cur || any) words.push(cur);
      cur = '';
      any = false;
    } else cur += ch;
  }
  if (cur || any) words.push(cur);
  if (words.length === 0) throw invalidArgument(`${instr} requires at least one argument`);
  if (!words[0].includes('=')) {
    // legacy form: KEY value...
    const m = /^(\S+)\s+([\s\S]*)$/.exec(t);
    if (!m) throw invalidArgument(`${instr} requires two arguments`);
    return [[m[1], m[2]]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidArgument(`${instr} names can not be blank: ${w}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

export function applyChanges(cfg: ContainerConfigPart, changes: string[]): ContainerConfigPart {
  const out: ContainerConfigPart = { ...cfg };
  for (const change of changes) {
    const m = /^\s*(\w+)\s*([\s\S]*)$/.exec(change);
    if (!m) continue;
    const instr = m[1].toUpperCase();
    const rest = m[2];
    switch (instr) {
      case 'CMD':
        out.Cmd = jsonOrShell(rest);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = jsonOrShell(rest);
        break;
      case 'ENV': {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of keyValues(rest, 'ENV')) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}) };
        for (const [k, v] of keyValues(rest, 'LABEL')) out.Labels[k] = v;
        break;
      case 'EXPOSE':
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const p of rest.trim().split(/\s+/).filter(Boolean)) out.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
        break;
      case 'VOLUME': {
        out.Volumes = { ...(out.Volumes ?? {}) };
        const vs = rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : rest.trim().split(/\s+/);
        for (const v of vs) out.Volumes[v] = {};
        break;
      }
      case 'USER':
        out.User = rest.trim();
        break;
      case 'WORKDIR':
        out.WorkingDir = rest.trim();
        break;
      case 'STOPSIGNAL':
        out.StopSignal = rest.trim();
        break;
      case 'ONBUILD':
        out.OnBuild = [...(out.OnBuild ?? []), rest.trim()];
        break;
      default:
        throw invalidArgument(`${instr} is not a valid change command`);
    }
  }
  return out;
}
