import os from 'node:os';
import fs from 'node:fs';
import type { Router } from '../server';
import { API_VERSION, MIN_API_VERSION, commonHeaders, sendJson, readJsonObject } from '../server';
import type { Daemon } from '../../daemon/daemon';
import { hostInfo } from '../../daemon/hostconfig';
import { validateBody, AUTH_CONFIG } from '../validate';

export const BERTH_VERSION = '0.1.0';

export function systemRoutes(r: Router, d: Daemon): void {
  const ping = (ctx: import('../server').Ctx): void => {
    const res = ctx.res!;
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Builder-Version': '1' });
    res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  r.add('GET', /^\/_ping$/, ping);
  r.add('HEAD', /^\/_ping$/, ping);

  r.add('GET', /^\/version$/, (ctx) => {
    const kernel = os.release();
    sendJson(ctx, 200, {
      Platform: { Name: 'berth' },
      Components: [
        { Name: 'Engine', Version: BERTH_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: kernel, GitCommit: '', GoVersion: `node${process.versions.node}` } },
        { Name: d.config.defaultRuntime, Version: d.runtimeVersion(), Details: {} },
      ],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: kernel,
      BuildTime: '',
    });
  });

  r.add('POST', /^\/auth$/, async (ctx) => {
    const body = await readJsonObject(ctx);
    validateBody(body, AUTH_CONFIG);
    sendJson(ctx, 200, await d.distribution.login(body));
  });

  r.add('GET', /^\/info$/, (ctx) => {
    const cs = d.containers.all();
    const running = cs.filter((c) => c.State.Running && !c.State.Paused).length;
    const paused = cs.filter((c) => c.State.Paused).length;
    let osName = 'Linux';
    try {
      osName = /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
    } catch {
      /* keep default */
    }
    sendJson(ctx, 200, {
      ID: d.id,
      Containers: cs.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: cs.length - running - paused,
      Images: d.store.listImages().length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'k8s-file', 'none'] },
      MemoryLimit: true,
      SwapLimit: hostInfo().swapAccounting,
      OomKillDisable: !fs.existsSync('/sys/fs/cgroup/cgroup.controllers'), // a cgroup v1 feature
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: d.config.logLevel === 'debug',
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: osName,
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: d.config.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(Object.entries(d.runtimes).map(([k, v]) => [k, { path: v.cfg.path }])),
      DefaultRuntime: d.config.defaultRuntime,
      LiveRestoreEnabled: d.config.liveRestore,
      Isolation: '',
      InitBinary: 'docker-init',
      SecurityOptions: securityOptions(d),
      Warnings: [],
    });
  });
}

export function goArch(): string {
  const m: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' };
  return m[process.arch] ?? process.arch;
}

/** Docker's list: seccomp always, userns when remapping, cgroupns on cgroup v2. */
function securityOptions(d: Daemon): string[] {
  const out = ['name=seccomp,profile=builtin'];
  if (d.config.usernsRemap) out.push('name=userns');
  if (fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) out.push('name=cgroupns');
  return out;
}
