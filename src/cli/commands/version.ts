import type { ComponentVersion, VersionResponse } from '../../client/types';
import { API_VERSION } from '../../client/engine';
import { INSPECT_FORMAT_HELP, StatusError, errorText, type CommandSpec } from '../cli';
import { compileTemplate, TemplateError } from '../format/gotemplate';
import { clientVersion } from '../pkg';
import { tabwrite } from '../format/table';

/** docker's prettyPrintVersion: tabwriter.NewWriter(out, 20, 1, 1, ' ', 0). */
const VERSION_TABWRITER = { minWidth: 20, tabWidth: 1, padding: 1, padChar: ' ' };

export function goArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** docker's reformatDate: an RFC 3339 time as Go's ANSIC layout, in the time's own offset. */
export function reformatDate(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(s);
  if (!m) return s;
  const [, y, mo, d, h, mi, se] = m;
  const wall = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se)));
  if (Number.isNaN(wall.getTime())) return s;
  const day = String(wall.getUTCDate()).padStart(2, ' ');
  return `${DAYS[wall.getUTCDay()]} ${MONTHS[wall.getUTCMonth()]} ${day} ${h}:${mi}:${se} ${y}`;
}

/** What `version --format` templates see (docker's system.versionInfo). */
export class VersionInfo {
  constructor(
    public Client: ClientVersion,
    public Server: VersionResponse | null,
  ) {}
}
Object.defineProperty(VersionInfo, 'name', { value: 'system.versionInfo' });

/** The Client part; template fields are docker's, JSON keys too (ApiVersion). */
export class ClientVersion {
  Version: string;
  APIVersion: string;
  DefaultAPIVersion: string;
  NodeVersion: string;
  Os: string;
  Arch: string;
  Context: string;
  constructor(apiVersion: string) {
    this.Version = clientVersion();
    this.APIVersion = apiVersion;
    this.DefaultAPIVersion = API_VERSION;
    this.NodeVersion = process.version;
    this.Os = process.platform;
    this.Arch = goArch();
    this.Context = 'default';
  }
  toJSON(): Record<string, string> {
    return {
      Version: this.Version,
      ApiVersion: this.APIVersion,
      DefaultAPIVersion: this.DefaultAPIVersion,
      NodeVersion: this.NodeVersion,
      Os: this.Os,
      Arch: this.Arch,
      Context: this.Context,
    };
  }
}

function details(c: ComponentVersion, key: string): string {
  return c.Details?.[key] ?? '';
}

/** The default `version` text (docker's defaultVersionTemplate), before the tabwriter. */
export function versionText(client: ClientVersion, server: VersionResponse | null): string {
  let s = 'Client:\n';
  s += ` Version:\t${client.Version}\n`;
  s += ` API version:\t${client.APIVersion}${client.APIVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : ''}\n`;
  s += ` Node.js version:\t${client.NodeVersion}\n`;
  s += ` OS/Arch:\t${client.Os}/${client.Arch}\n`;
  s += ` Context:\t${client.Context}`;
  if (server) {
    const name = server.Platform?.Name ?? '';
    s += `\n\nServer:${name ? ` ${name}` : ''}`;
    for (const c of server.Components ?? []) {
      s += `\n ${c.Name}:`;
      if (c.Name === 'Engine') {
        s += `\n  Version:\t${c.Version}`;
        s += `\n  API version:\t${details(c, 'ApiVersion')} (minimum version ${details(c, 'MinAPIVersion')})`;
        s += `\n  Go version:\t${details(c, 'GoVersion')}`;
        s += `\n  Git commit:\t${details(c, 'GitCommit')}`;
        s += `\n  Built:\t${details(c, 'BuildTime')}`;
        s += `\n  OS/Arch:\t${details(c, 'Os')}/${details(c, 'Arch')}`;
        s += `\n  Experimental:\t${details(c, 'Experimental')}`;
      } else {
        s += `\n  Version:\t${c.Version}`;
        for (const k of Object.keys(c.Details ?? {}).sort()) s += `\n  ${k}:\t${details(c, k)}`;
      }
    }
  }
  return s;
}

/** Fills in an Engine component when the daemon reports none; reformats build times. */
export function normalizeServer(sv: VersionResponse): VersionResponse {
  // Details is a Go map: its keys print sorted.
  const sortedDetails = (d: Record<string, string> | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(d ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const out: VersionResponse = { ...sv, Components: (sv.Components ?? []).map((c) => ({ ...c, Details: sortedDetails(c.Details) })) };
  let found = false;
  for (const c of out.Components ?? []) {
    if (c.Name === 'Engine') {
      found = true;
      if (c.Details && c.Details.BuildTime !== undefined) c.Details.BuildTime = reformatDate(c.Details.BuildTime);
    }
  }
  if (!found) {
    out.Components = [
      ...(out.Components ?? []),
      {
        Name: 'Engine',
        Version: sv.Version ?? '',
        Details: sortedDetails({
          ApiVersion: sv.ApiVersion ?? '',
          MinAPIVersion: sv.MinAPIVersion ?? '',
          GitCommit: sv.GitCommit ?? '',
          GoVersion: sv.GoVersion ?? '',
          Os: sv.Os ?? '',
          Arch: sv.Arch ?? '',
          BuildTime: reformatDate(sv.BuildTime ?? ''),
          Experimental: String(!!sv.Experimental),
        }),
      },
    ];
  }
  return out;
}

export const versionCommand: CommandSpec = {
  name: 'version',
  use: '[OPTIONS]',
  short: 'Show the berth version information',
  args: { kind: 'none' },
  flags: [{ name: 'format', short: 'f', type: 'string', description: INSPECT_FORMAT_HELP }],
  async run(cli, f) {
    let format = f.string('format');
    if (format === 'json') format = '{{json .}}';
    let tmpl;
    if (format) {
      try {
        tmpl = compileTemplate(format, { name: 'version' });
      } catch (err) {
        if (err instanceof TemplateError) throw new StatusError(64, `template parsing error: ${err.message}`);
        throw err;
      }
    }
    const engine = cli.engine();
    const client = new ClientVersion(engine.apiVersion);
    let server: VersionResponse | null = null;
    let failure: unknown;
    try {
      server = normalizeServer(await engine.get<VersionResponse>('/version'));
    } catch (err) {
      failure = err;
    }
    let text: string;
    if (tmpl) {
      try {
        text = tmpl.execute(new VersionInfo(client, server));
      } catch (err) {
        cli.out(tabwrite(`${err instanceof TemplateError ? err.output : ''}\n`, VERSION_TABWRITER));
        throw new StatusError(1, (err as Error).message);
      }
    } else {
      text = versionText(client, server);
    }
    cli.out(tabwrite(`${text}\n`, VERSION_TABWRITER));
    if (failure !== undefined) throw new StatusError(1, errorText(failure));
  },
};
