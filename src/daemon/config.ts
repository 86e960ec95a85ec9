/**
 * berthd's configuration: dockerd's flags, merged over daemon.json (--config-file). A flag given
 * on the command line and in the file is an error, as in dockerd.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';

export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  configFile: string;
  defaultRuntime: string;
  runtimes: Record<string, { path: string }>;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  liveRestore: boolean;
  cgroupParent: string;
  dns: string[];
  shutdownTimeout: number;
  pidfile: string;
  group: string;
  conmonPath: string;
  insecureRegistries: string[];
  registryMirrors: string[];
  /** '' for the default data root, else 8 hex digits of its hash: names the bridge and the iptables chains. */
  netTag: string;
  bridge: string;
  bip: string;
  /** What `host-gateway` in --add-host stands for ('' = the default bridge's gateway). */
  hostGatewayIp: string;
  ipMasq: boolean;
  /** IPv6 on the default bridge, from --fixed-cidr-v6 (or a unique local /64). */
  ipv6: boolean;
  fixedCidrV6: string;
  dnsUpstream: string[];
  dnsForward: boolean;
  /** --init-path: the init binary of `--init` containers; --init: make it the default. */
  initPath: string;
  init: boolean;
  /** --userns-remap user[:group] ('' = off). */
  usernsRemap: string;
  /** TLS for tcp:// hosts: --tls (server certificate only), --tlsverify (clients must present a certificate the CA signed). */
  tls: boolean;
  tlsVerify: boolean;
  tlsCaCert: string;
  tlsCert: string;
  tlsKey: string;
  /** --insecure-tcp: allows a tcp:// host without client verification, on a loopback address only. */
  insecureTcp: boolean;
}

export const DEFAULT_DATA_ROOT = '/var/lib/berth';
export const DEFAULT_EXEC_ROOT = '/run/berth';
export const DEFAULT_SOCKET = 'unix:///run/berth/berth.sock';

const USAGE = `Usage:	berthd [OPTIONS]

A container engine that serves the Docker Engine API

Options:
  -b, --bridge string             Device of the default bridge network (default: berth0, or berth-<hash> for a non-default data root)
      --bip string                Gateway address and prefix of the default bridge network (default: a free /24 of 10.213.0.0/16)
      --cgroup-parent string      Parent cgroup for all containers (default: berth, or berth-<hash> for a non-default data root)
      --config-file string        Daemon configuration file (default "/etc/berth/daemon.json")
      --data-root string          Root directory of persistent berth state (default "/var/lib/berth")
  -D, --debug                     Enable debug mode
      --default-runtime string    Default OCI runtime for containers: runc or crun (default "runc")
      --dns list                  DNS server for containers
      --dns-forward               Relay names that are not containers' to upstream servers (default true)
      --dns-upstream list         Upstream servers of berth's DNS server on user networks (default: the host's resolv.conf)
      --exec-root string          Root directory for execution state files (default "/run/berth")
      --fixed-cidr-v6 string      IPv6 subnet of the default bridge network (with --ipv6; default: a free /64 of fd00::/8)
      --ip-masq                   Masquerade traffic from containers to the outside (default true)
      --init                      Run an init in the container to forward signals and reap processes
      --init-path string          Path to the docker-init binary (default "/usr/bin/tini-static")
      --insecure-registry list    Registries reached over plain HTTP or without TLS verification (127.0.0.0/8 always is)
      --ipv6                      Enable IPv6 on the default bridge network
  -G, --group string              Group for the unix socket (default "berth")
  -h, --help                      Print usage
      --host-gateway-ip string    IP address that the special 'host-gateway' string in --add-host resolves to (default: the default bridge's gateway)
  -H, --host list                 Daemon socket(s) to connect to (default unix:///run/berth/berth.sock)
      --userns-remap string       User/Group setting for user namespaces (ranges from /etc/subuid and /etc/subgid)
      --insecure-tcp              Allow a tcp:// host without --tlsverify, on a loopback address only
      --live-restore              Keep containers running when the daemon stops
  -l, --log-level string          Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")
      --registry-mirror list      Preferred registry mirror for docker.io
  -p, --pidfile string            Path to use for daemon PID file (default "<exec-root>/berthd.pid")
      --shutdown-timeout int      Default shutdown timeout in seconds (default 15)
      --tls                       Use TLS; implied by --tlsverify
      --tlscacert string          Trust certs signed only by this CA (default "~/.docker/ca.pem")
      --tlscert string            Path to TLS certificate file (default "~/.docker/cert.pem")
      --tlskey string             Path to TLS key file (default "~/.docker/key.pem")
      --tlsverify                 Use TLS and verify the remote
  -v, --version                   Print version information and quit
`;

export class UsageError extends Error {}

export function usage(): string {
  return USAGE;
}

/** dockerd's TLS settings: --tlsverify implies --tls; certificates default to $DOCKER_CERT_PATH or ~/.docker. */
function tlsConfig(get: <T>(k: string, d: T) => T): Pick<DaemonConfig, 'tls' | 'tlsVerify' | 'tlsCaCert' | 'tlsCert' | 'tlsKey' | 'insecureTcp'> {
  const certDir = process.env.DOCKER_CERT_PATH || `${process.env.HOME || '/root'}/.docker`;
  const tlsVerify = get('tlsverify', false);
  return {
    tls: get('tls', false) || tlsVerify,
    tlsVerify,
    tlsCaCert: get('tlscacert', `${certDir}/ca.pem`),
    tlsCert: get('tlscert', `${certDir}/cert.pem`),
    tlsKey: get('tlskey', `${certDir}/key.pem`),
    insecureTcp: get('insecure-tcp', false),
  };
}

function which(names: string[]): string {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/usr/bin', '/usr/libexec/podman'])) {
    for (const n of names) {
      const p = `${dir}/${n}`;
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return p;
      } catch {
        /* next */
      }
    }
  }
  return names[0];
}

/** Parses argv (without node and script). Returns null for --help/--version (already printed). */
export function parseDaemonArgs(argv: string[]): { config: DaemonConfig; fromFlags: Set<string> } | 'help' | 'version' {
  const flags: Record<string, string | string[] | boolean> = {};
  const fromFlags = new Set<string>();
  const spec: Record<string, { key: string; type: 'string' | 'list' | 'bool' | 'int' }> = {
    '-H': { key: 'hosts', type: 'list' },
    '--host': { key: 'hosts', type: 'list' },
    '--data-root': { key: 'data-root', type: 'string' },
    '--exec-root': { key: 'exec-root', type: 'string' },
    '--config-file': { key: 'config-file', type: 'string' },
    '--default-runtime': { key: 'default-runtime', type: 'string' },
    '-l': { key: 'log-level', type: 'string' },
    '--log-level': { key: 'log-level', type: 'string' },
    '-D': { key: 'debug', type: 'bool' },
    '--debug': { key: 'debug', type: 'bool' },
    '--live-restore': { key: 'live-restore', type: 'bool' },
    '--cgroup-parent': { key: 'cgroup-parent', type: 'string' },
    '--dns': { key: 'dns', type: 'list' },
    '--shutdown-timeout': { key: 'shutdown-timeout', type: 'int' },
    '-p': { key: 'pidfile', type: 'string' },
    '--pidfile': { key: 'pidfile', type: 'string' },
    '-G': { key: 'group', type: 'string' },
    '--insecure-registry': { key: 'insecure-registries', type: 'list' },
    '--registry-mirror': { key: 'registry-mirrors', type: 'list' },
    '--group': { key: 'group', type: 'string' },
    '-b': { key: 'bridge', type: 'string' },
    '--bridge': { key: 'bridge', type: 'string' },
    '--bip': { key: 'bip', type: 'string' },
    '--host-gateway-ip': { key: 'host-gateway-ip', type: 'string' },
    '--ip-masq': { key: 'ip-masq', type: 'bool' },
    '--ipv6': { key: 'ipv6', type: 'bool' },
    '--fixed-cidr-v6': { key: 'fixed-cidr-v6', type: 'string' },
    '--dns-upstream': { key: 'dns-upstream', type: 'list' },
    '--dns-forward': { key: 'dns-forward', type: 'bool' },
    '--init': { key: 'init', type: 'bool' },
    '--init-path': { key: 'init-path', type: 'string' },
    '--userns-remap': { key: 'userns-remap', type: 'string' },
    '--tls': { key: 'tls', type: 'bool' },
    '--tlsverify': { key: 'tlsverify', type: 'bool' },
    '--tlscacert': { key: 'tlscacert', type: 'string' },
    '--tlscert': { key: 'tlscert', type: 'string' },
    '--tlskey': { key: 'tlskey', type: 'string' },
    '--insecure-tcp': { key: 'insecure-tcp', type: 'bool' },
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return 'help';
    if (a === '-v' || a === '--version') return 'version';
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const s = spec[name];
    if (!s) throw new UsageError(`unknown flag: ${name}`);
    let value: string | undefined = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    if (s.type === 'bool') {
      flags[s.key] = value === undefined ? true : value !== 'false';
    } else {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${name}`);
        value = argv[++i];
      }
      if (s.type === 'list') flags[s.key] = [...((flags[s.key] as string[]) ?? []), value];
      else flags[s.key] = value;
    }
    fromFlags.add(s.key);
  }
  const configFile = (flags['config-file'] as string) ?? '/etc/berth/daemon.json';
  let file: Record<string, unknown> = {};
  if (fs.existsSync(configFile)) {
    try {
      file = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`unable to configure the berth daemon with file ${configFile}: ${(e as Error).message}`);
    }
    const conflicts = Object.keys(file).filter((k) => fromFlags.has(k));
    if (conflicts.length) {
      throw new UsageError(`the following directives are specified both as a flag and in the configuration file: ${conflicts.map((k) => `${k}: (from flag: ${JSON.stringify(flags[k])}, from file: ${JSON.stringify(file[k])})`).join(', ')}`);
    }
  } else if (fromFlags.has('config-file')) {
    throw new UsageError(`unable to configure the berth daemon with file ${configFile}: no such file`);
  }
  const get = <T>(k: string, d: T): T => (flags[k] as T) ?? (file[k] as T) ?? d;
  const dataRoot = get('data-root', DEFAULT_DATA_ROOT);
  const execRoot = get('exec-root', DEFAULT_EXEC_ROOT);
  const runtimes: Record<string, { path: string }> = {
    runc: { path: which(['runc']) },
    crun: { path: which(['crun']) },
    ...((file.runtimes as Record<string, { path: string }>) ?? {}),
  };
  const defaultRuntime = get('default-runtime', 'runc');
  if (!runtimes[defaultRuntime]) throw new UsageError(`default runtime ${defaultRuntime} is not configured`);
  const level = get('debug', false) ? 'debug' : get('log-level', 'info');
  if (!['debug', 'info', 'warn', 'error', 'fatal'].includes(level)) throw new UsageError(`unable to parse logging level: ${level}`);
  const netTag = dataRoot === DEFAULT_DATA_ROOT ? '' : crypto.createHash('sha256').update(dataRoot).digest('hex').slice(0, 8);
  const bridge = get('bridge', netTag ? `berth-${netTag}` : 'berth0');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(bridge)) throw new UsageError(`invalid bridge name ${bridge}: at most 15 characters of [a-zA-Z0-9_.-]`);
  const shutdownTimeout = Number(get('shutdown-timeout', 15));
  if (!Number.isInteger(shutdownTimeout) || shutdownTimeout < 0) throw new UsageError('invalid --shutdown-timeout');
  const config: DaemonConfig = {
    hosts: get('hosts', [DEFAULT_SOCKET]),
    dataRoot,
    execRoot,
    configFile,
    defaultRuntime,
    runtimes,
    logLevel: level as DaemonConfig['logLevel'],
    liveRestore: get('live-restore', false),
    cgroupParent: get('cgroup-parent', dataRoot === DEFAULT_DATA_ROOT ? 'berth' : `berth-${crypto.createHash('sha256').update(dataRoot).digest('hex').slice(0, 8)}`),
    dns: get('dns', []),
    shutdownTimeout,
    pidfile: get('pidfile', `${execRoot}/berthd.pid`),
    group: get('group', 'berth'),
    conmonPath: which(['conmon']),
    insecureRegistries: get('insecure-registries', []),
    registryMirrors: get('registry-mirrors', []),
    netTag,
    bridge,
    bip: get('bip', ''),
    hostGatewayIp: get('host-gateway-ip', ''),
    ipMasq: get('ip-masq', true),
    ipv6: get('ipv6', false),
    fixedCidrV6: get('fixed-cidr-v6', ''),
    dnsUpstream: get('dns-upstream', []),
    dnsForward: get('dns-forward', true),
    initPath: get('init-path', '/usr/bin/tini-static'),
    init: get('init', false),
    usernsRemap: get('userns-remap', ''),
    ...tlsConfig(get),
  };
  return { config, fromFlags };
}
