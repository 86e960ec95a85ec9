/**
 * The networking options of `run` and `create` (--network is in container-opts.ts) and their
 * place in the create body, as the docker CLI (API 1.41) puts them: ports and DNS in HostConfig,
 * --mac-address in Config, --ip and --network-alias in NetworkingConfig.EndpointsConfig.
 */
import type { FlagSpec, ParsedFlags } from '../flags';
import type { ContainerCreateBody } from '../../client/types';
import { exposeOptions, publishOptions } from '../../network/portspec';

const check = (fn: (v: string) => void) => (v: string): string | undefined => {
  try {
    fn(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

export const NETWORK_FLAGS: FlagSpec[] = [
  {
    name: 'add-host',
    type: 'list',
    description: 'Add a custom host-to-IP mapping (host:ip)',
    validate: (v) => (/^[^:=]+[:=].+$/.test(v) ? undefined : `bad format for add-host: "${v}"`),
  },
  { name: 'dns', type: 'list', description: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', description: 'Set DNS options' },
  { name: 'dns-search', type: 'list', description: 'Set custom DNS search domains' },
  { name: 'domainname', type: 'string', description: 'Container NIS domain name' },
  { name: 'expose', type: 'list', description: 'Expose a port or a range of ports', validate: check((v) => exposeOptions([v])) },
  { name: 'ip', type: 'string', description: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', type: 'string', description: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'link', type: 'list', description: 'Add link to another container' },
  { name: 'mac-address', type: 'string', description: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'network-alias', type: 'list', description: 'Add network-scoped alias for the container' },
  { name: 'publish', short: 'p', type: 'list', description: "Publish a container's port(s) to the host", validate: check((v) => publishOptions([v])) },
  { name: 'publish-all', short: 'P', type: 'bool', description: 'Publish all exposed ports to random ports' },
];

/** Adds the networking options to the create body (`network` is the --network value). */
export function applyNetworkOptions(f: ParsedFlags, body: ContainerCreateBody, network: string): void {
  const b = body as ContainerCreateBody & Record<string, unknown>;
  const hc = (body.HostConfig ??= {}) as Record<string, unknown>;
  const pub = publishOptions(f.list('publish'));
  const exposed = { ...exposeOptions(f.list('expose')), ...pub.exposed };
  if (Object.keys(exposed).length) b.ExposedPorts = exposed;
  if (Object.keys(pub.bindings).length) hc.PortBindings = pub.bindings;
  if (f.bool('publish-all')) hc.PublishAllPorts = true;
  if (f.list('dns').length) hc.Dns = f.list('dns');
  if (f.list('dns-option').length) hc.DnsOptions = f.list('dns-option');
  if (f.list('dns-search').length) hc.DnsSearch = f.list('dns-search');
  if (f.list('add-host').length) hc.ExtraHosts = f.list('add-host');
  if (f.list('link').length) hc.Links = f.list('link');
  if (f.string('domainname')) b.Domainname = f.string('domainname');
  if (f.string('mac-address')) b.MacAddress = f.string('mac-address');
  const ip = f.string('ip');
  const ip6 = f.string('ip6');
  const aliases = f.list('network-alias');
  if (ip || ip6 || aliases.length) {
    const ep: Record<string, unknown> = {};
    if (ip || ip6) ep.IPAMConfig = { ...(ip ? { IPv4Address: ip } : {}), ...(ip6 ? { IPv6Address: ip6 } : {}) };
    if (aliases.length) ep.Aliases = aliases;
    b.NetworkingConfig = { EndpointsConfig: { [network]: ep } };
  }
}
