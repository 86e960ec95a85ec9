import type { CommandSpec } from '../cli';
import { INDEX_SERVER, convertToHostname } from '../dockerconfig';

export const logoutCommand: CommandSpec = {
  name: 'logout',
  use: '[SERVER]',
  short: 'Log out from a registry',
  long: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
  args: { kind: 'max', n: 1 },
  flags: [],
  async run(cli, f) {
    let serverAddress = f.args[0] ?? '';
    const isDefaultRegistry = serverAddress === '';
    if (isDefaultRegistry) serverAddress = INDEX_SERVER;
    let hostnameAddress = serverAddress;
    const regsToLogout = [serverAddress];
    if (!isDefaultRegistry) {
      // Older clients saved the registry with a scheme; those entries go too.
      hostnameAddress = convertToHostname(serverAddress);
      regsToLogout.push(hostnameAddress, `http://${hostnameAddress}`, `https://${hostnameAddress}`);
    }
    cli.println(`Removing login credentials for ${hostnameAddress}`);
    const cfg = cli.configFile();
    const errs = new Map<string, string>();
    for (const r of regsToLogout) {
      try {
        await cfg.credentialStore(r).erase(r);
      } catch (err) {
        errs.set(r, (err as Error).message);
      }
    }
    // One success is enough; only when every removal failed is it worth a warning.
    if (errs.size === regsToLogout.length) {
      cli.eprintln('WARNING: could not erase credentials:');
      for (const [k, v] of errs) cli.eprintln(`${k}: ${v}`);
    }
  },
};
