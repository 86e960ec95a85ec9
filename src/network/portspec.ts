/**
 * `-p/--publish` and `--expose` values as the docker CLI parses them (go-connections'
 * nat.ParsePortSpec): `[ip:][hostPort:]containerPort[/proto]`, with ranges on either side.
 * Pure; used by the CLI to build the create body.
 */

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

function parseRange(s: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new Error(`invalid ${what}: ${s}`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a) throw new Error(`invalid ${what}: ${s}`);
  return [a, b];
}

/** Splits "ip:host:container", "host:container" or "container"; an IPv6 address goes in [brackets]. */
function splitParts(raw: string): [string, string, string] {
  let ip = '';
  let rest = raw;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw new Error(`invalid IP address: ${raw}`);
    ip = rest.slice(1, end);
    rest = rest.slice(end + 1).replace(/^:/, '');
    const parts = rest.split(':');
    return parts.length === 1 ? [ip, '', parts[0]] : [ip, parts[0], parts.slice(1).join(':')];
  }
  const parts = rest.split(':');
  if (parts.length === 1) return ['', '', parts[0]];
  if (parts.length === 2) return ['', parts[0], parts[1]];
  return [parts.slice(0, parts.length - 2).join(':'), parts[parts.length - 2], parts[parts.length - 1]];
}

/** One `-p` value → (port/proto, binding) pairs. */
export function parsePortSpec(raw: string): { port: string; binding: PortBinding }[] {
  const [ip, hostPort, cpWithProto] = splitParts(raw);
  if (ip && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && !ip.includes(':')) throw new Error(`invalid IP address: ${ip}`);
  const slash = cpWithProto.indexOf('/');
  const cp = slash >= 0 ? cpWithProto.slice(0, slash) : cpWithProto;
  const proto = (slash >= 0 ? cpWithProto.slice(slash + 1) : 'tcp').toLowerCase();
  if (!cp) throw new Error(`no port specified: ${raw}<empty>`);
  const [start, end] = parseRange(cp, 'containerPort');
  let hStart = 0;
  let hEnd = 0;
  if (hostPort) {
    [hStart, hEnd] = parseRange(hostPort, 'hostPort');
    if (end - start !== hEnd - hStart && end !== start) throw new Error(`invalid ranges specified for container and host Ports: ${cp} and ${hostPort}`);
  }
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto}`);
  const out: { port: string; binding: PortBinding }[] = [];
  for (let i = 0; i <= end - start; i++) {
    let hp = hostPort ? String(hStart + i) : '';
    if (start === end && hStart !== hEnd) hp = `${hStart}-${hEnd}`;
    out.push({ port: `${start + i}/${proto}`, binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** `-p` values → ExposedPorts and PortBindings of the create body. */
export function publishOptions(values: readonly string[]): { exposed: Record<string, object>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const v of values) {
    for (const { port, binding } of parsePortSpec(v)) {
      exposed[port] = {};
      (bindings[port] ??= []).push(binding);
    }
  }
  return { exposed, bindings };
}

/** `--expose 80`, `--expose 8000-8010/udp`. */
export function exposeOptions(values: readonly string[]): Record<string, object> {
  const out: Record<string, object> = {};
  for (const v of values) {
    const slash = v.indexOf('/');
    const p = slash >= 0 ? v.slice(0, slash) : v;
    const proto = slash >= 0 ? v.slice(slash + 1).toLowerCase() : 'tcp';
    const [a, b] = parseRange(p, 'range format for --expose specification');
    for (let i = a; i <= b; i++) out[`${i}/${proto}`] = {};
  }
  return out;
}
