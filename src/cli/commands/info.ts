import type { InfoResponse } from '../../client/types';
import { INSPECT_FORMAT_HELP, StatusError, errorText, type CommandSpec } from '../cli';
import { bytesSize } from '../../util/units';
import { compileTemplate, TemplateError } from '../format/gotemplate';
import { clientVersion } from '../pkg';

/** Go's fmt.Println of a value: booleans and numbers as Go prints them. */
function v(x: unknown): string {
  if (x === undefined || x === null) return '';
  return String(x);
}

/** system.DecodeSecurityOptions: "name=seccomp,profile=builtin" → seccomp + Profile. */
export function decodeSecurityOptions(opts: readonly string[]): { name: string; options: [string, string][] }[] {
  return opts.map((o) => {
    const out = { name: '', options: [] as [string, string][] };
    if (!o.includes('=')) {
      out.name = o;
      return out;
    }
    for (const kv of o.split(',')) {
      const eq = kv.indexOf('=');
      const k = eq >= 0 ? kv.slice(0, eq) : kv;
      const val = eq >= 0 ? kv.slice(eq + 1) : '';
      if (k === 'name') out.name = val;
      else out.options.push([k, val]);
    }
    return out;
  });
}

/** docker's prettyPrintServerInfo, for the fields berthd reports. */
export function serverInfoText(info: InfoResponse, clientDebug: boolean): string {
  const lines: string[] = [];
  const ln = (...parts: unknown[]): void => {
    lines.push(parts.map(v).join(' '));
  };
  const nonEmpty = (label: string, value: unknown): void => {
    if (value !== undefined && value !== null && value !== '') ln(label, value);
  };
  ln(' Containers:', info.Containers ?? 0);
  ln('  Running:', info.ContainersRunning ?? 0);
  ln('  Paused:', info.ContainersPaused ?? 0);
  ln('  Stopped:', info.ContainersStopped ?? 0);
  ln(' Images:', info.Images ?? 0);
  nonEmpty(' Server Version:', info.ServerVersion);
  nonEmpty(' Storage Driver:', info.Driver);
  for (const [k, val] of info.DriverStatus ?? []) lines.push(`  ${k}: ${val}`);
  for (const [k, val] of info.SystemStatus ?? []) lines.push(` ${k}: ${val}`);
  nonEmpty(' Logging Driver:', info.LoggingDriver);
  nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  nonEmpty(' Cgroup Version:', info.CgroupVersion);
  ln(' Plugins:');
  ln('  Volume:', (info.Plugins?.Volume ?? []).join(' '));
  ln('  Network:', (info.Plugins?.Network ?? []).join(' '));
  if ((info.Plugins?.Authorization ?? []).length > 0) ln('  Authorization:', (info.Plugins?.Authorization ?? []).join(' '));
  ln('  Log:', (info.Plugins?.Log ?? []).join(' '));
  ln(' Swarm:', info.Swarm?.LocalNodeState ?? 'inactive');
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length > 0) {
    ln(' Runtimes:', runtimes.join(' '));
    ln(' Default Runtime:', info.DefaultRuntime ?? '');
  }
  if (info.OSType === 'linux') {
    ln(' Init Binary:', info.InitBinary ?? '');
    ln(' containerd version:', info.ContainerdCommit?.ID ?? '');
    ln(' runc version:', info.RuncCommit?.ID ?? '');
    ln(' init version:', info.InitCommit?.ID ?? '');
    const sec = info.SecurityOptions ?? [];
    if (sec.length > 0) {
      ln(' Security Options:');
      for (const so of decodeSecurityOptions(sec)) {
        lines.push(`  ${so.name}`);
        for (const [k, val] of so.options) if (k === 'profile') ln('   Profile:', val);
      }
    }
  }
  nonEmpty(' Kernel Version:', info.KernelVersion);
  nonEmpty(' Operating System:', info.OperatingSystem);
  nonEmpty(' OSType:', info.OSType);
  nonEmpty(' Architecture:', info.Architecture);
  ln(' CPUs:', info.NCPU ?? 0);
  ln(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  nonEmpty(' Name:', info.Name);
  nonEmpty(' ID:', info.ID);
  ln(' Docker Root Dir:', info.DockerRootDir ?? '');
  ln(' Debug Mode:', !!info.Debug);
  if (info.Debug || clientDebug) {
    ln('  File Descriptors:', info.NFd ?? 0);
    ln('  Goroutines:', info.NGoroutines ?? 0);
    ln('  System Time:', info.SystemTime ?? '');
    ln('  EventsListeners:', info.NEventsListener ?? 0);
  }
  nonEmpty(' HTTP Proxy:', info.HttpProxy);
  nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  nonEmpty(' No Proxy:', info.NoProxy);
  if ((info.Labels ?? []).length > 0) {
    ln(' Labels:');
    for (const l of info.Labels ?? []) lines.push(`  ${l}`);
  }
  ln(' Experimental:', !!info.ExperimentalBuild);
  const reg = info.RegistryConfig;
  const cidrs = reg?.InsecureRegistryCIDRs ?? [];
  const indexes = Object.values(reg?.IndexConfigs ?? {});
  if (reg && (cidrs.length > 0 || indexes.length > 0)) {
    ln(' Insecure Registries:');
    for (const ic of indexes) if (!ic.Secure) lines.push(`  ${ic.Name}`);
    for (const c of cidrs) lines.push(`  ${c}`);
  }
  if ((reg?.Mirrors ?? []).length > 0) {
    ln(' Registry Mirrors:');
    for (const m of reg?.Mirrors ?? []) lines.push(`  ${m}`);
  }
  ln(' Live Restore Enabled:', !!info.LiveRestoreEnabled);
  return `${lines.join('\n')}\n\n`;
}

export const infoCommand: CommandSpec = {
  name: 'info',
  use: '[OPTIONS]',
  short: 'Display system-wide information',
  args: { kind: 'none' },
  flags: [{ name: 'format', short: 'f', type: 'string', description: INSPECT_FORMAT_HELP }],
  async run(cli, f) {
    const format = f.string('format');
    const clientInfo = { Debug: cli.globals.debug, Version: clientVersion(), Context: 'default', Plugins: [], Warnings: null };
    if (format) {
      let tmpl;
      try {
        tmpl = compileTemplate(format === 'json' ? '{{json .}}' : format);
      } catch (err) {
        if (err instanceof TemplateError) throw new StatusError(64, `template parsing error: ${err.message}`);
        throw err;
      }
      let data: Record<string, unknown> = { ClientInfo: clientInfo };
      try {
        const info = await cli.engine().get<InfoResponse>('/info');
        data = { ...info, ClientInfo: clientInfo };
      } catch (err) {
        cli.eprintln(errorText(err));
        data = { ClientInfo: clientInfo, ServerErrors: [errorText(err)] };
      }
      try {
        cli.out(`${tmpl.execute(data)}\n`);
      } catch (err) {
        throw new StatusError(1, (err as Error).message);
      }
      return;
    }
    cli.out(`Client:\n Version:    ${clientInfo.Version}\n Context:    default\n Debug Mode: ${clientInfo.Debug}\n\nServer:\n`);
    let info: InfoResponse;
    try {
      info = await cli.engine().get<InfoResponse>('/info');
    } catch (err) {
      throw new StatusError(1, errorText(err));
    }
    cli.out(serverInfoText(info, cli.globals.debug));
    for (const w of info.Warnings ?? []) cli.eprintln(w);
  },
};
