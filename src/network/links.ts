/**
 * Legacy container links (`--link NAME[:ALIAS]`) on the default bridge, as Docker makes them
 * when the linking container starts: an /etc/hosts line for the linked container (the alias, its
 * hostname and its name) and environment variables describing it (ALIAS_NAME, ALIAS_PORT...,
 * ALIAS_ENV_...). Pure; the network manager finds the linked containers.
 */
import { invalidArgument } from '../core/errors';

export interface Link {
  name: string;
  alias: string;
}

/** "name", "name:alias", or the stored "/name:/parent/alias" form. */
export function parseLink(s: string): Link {
  const i = s.indexOf(':');
  const name = (i < 0 ? s : s.slice(0, i)).replace(/^\//, '');
  const alias = i < 0 ? name : s.slice(i + 1).split('/').pop()!;
  if (!name || !alias || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(alias)) throw invalidArgument(`invalid link: ${s}`);
  return { name, alias };
}

/** The linked container as the link sees it. */
export interface LinkTarget {
  name: string;
  hostname: string;
  ip: string;
  /** "80/tcp" and the like. */
  exposed: string[];
  env: string[];
}

/** The /etc/hosts entry: the alias, the linked container's hostname and (when it differs from the alias) its name. */
export function linkHost(link: Link, t: LinkTarget): { name: string; ip: string } {
  const names = [link.alias, t.hostname];
  if (link.alias !== t.name) names.push(t.name);
  return { name: names.join(' '), ip: t.ip };
}

/** ALIAS_NAME, ALIAS_PORT (the lowest port), ALIAS_PORT_<p>_<PROTO>[_ADDR|_PORT|_PROTO], ALIAS_ENV_<k>. */
export function linkEnv(parentName: string, link: Link, t: LinkTarget): string[] {
  const prefix = link.alias.toUpperCase().replace(/-/g, '_');
  const env = [`${prefix}_NAME=/${parentName}/${link.alias}`];
  const ports = t.exposed
    .map((p) => {
      const [port, proto = 'tcp'] = p.split('/');
      return { port: Number(port), proto };
    })
    .filter((p) => Number.isInteger(p.port))
    .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
  if (ports.length) env.push(`${prefix}_PORT=${ports[0].proto}://${t.ip}:${ports[0].port}`);
  for (const { port, proto } of ports) {
    const k = `${prefix}_PORT_${port}_${proto.toUpperCase()}`;
    env.push(`${k}=${proto}://${t.ip}:${port}`, `${k}_ADDR=${t.ip}`, `${k}_PORT=${port}`, `${k}_PROTO=${proto}`);
  }
  for (const e of t.env) {
    const i = e.indexOf('=');
    if (i <= 0) continue;
    const k = e.slice(0, i);
    // what every container has says nothing about the linked one
    if (k === 'HOME' || k === 'PATH' || k === 'HOSTNAME') continue;
    env.push(`${prefix}_ENV_${k}=${e.slice(i + 1)}`);
  }
  return env;
}
