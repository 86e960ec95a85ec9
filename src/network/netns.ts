/**
 * Network namespaces that outlive their processes: a fresh namespace bind-mounted on a file
 * (<exec-root>/netns/<container id>), as `ip netns add` does in its own directory. The runtime
 * joins it (spec `linux.namespaces[].path`), the CNI plugins configure it (CNI_NETNS), and it
 * exists before the container's process and after it, so interfaces are plumbed and removed
 * outside the container's lifecycle.
 *
 * The namespace is made on berthd's main thread: unshare(CLONE_NEWNET) moves only the calling
 * thread; the bind mount of /proc/thread-self/ns/net pins the new namespace, and setns() returns
 * the thread to the namespace it came from. All of it is synchronous, so no other JavaScript
 * runs (and opens sockets) while the thread is elsewhere.
 */
import fs from 'node:fs';
import { native, MNT_DETACH, MS } from '../util/native';

const CLONE_NEWNET = 0x40000000;

export function createNetns(file: string): void {
  fs.writeFileSync(file, '', { mode: 0o444 });
  const n = native();
  const home = fs.openSync('/proc/thread-self/ns/net', 'r');
  try {
    n.unshare(CLONE_NEWNET);
    try {
      n.mount('/proc/thread-self/ns/net', file, null, MS.BIND);
      namespaceDefaults();
    } finally {
      returnHome(home);
    }
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  } finally {
    fs.closeSync(home);
  }
}

/**
 * Sysctls of the new namespace (those under /proc/sys/net are the calling thread's namespace's):
 * - Docker's defaults for containers with a namespace of their own: any user may bind ports
 *   below 1024 and open ICMP echo sockets (HostConfig.Sysctls, which berth does not apply
 *   yet, would go into the runtime spec and be set after these);
 * - no duplicate address detection for IPv6 addresses: berth hands out each address once, and
 *   without it an address is usable at once instead of ~1 s later, so the CNI plugin's wait for
 *   its addresses to settle does not slow the start.
 */
function namespaceDefaults(): void {
  const set = (key: string, value: string): void => {
    try {
      fs.writeFileSync(`/proc/sys/net/${key}`, value);
    } catch {
      /* not in this kernel (IPv6 disabled, an old kernel) */
    }
  };
  set('ipv4/ip_unprivileged_port_start', '0');
  set('ipv4/ping_group_range', '0 2147483647');
  for (const conf of ['all', 'default']) set(`ipv6/conf/${conf}/accept_dad`, '0');
}

/**
 * Turns IPv6 on or off on one interface of the namespace mounted at `file`
 * (net.ipv6.conf.<ifname>.disable_ipv6), as Docker 26+ does for each endpoint: on if and only if
 * its network is IPv6-enabled, so an interface on an IPv4-only network has no link-local fe80::
 * address and joins no IPv6 multicast group. The namespace as a whole (`all`, `default`, and lo
 * with its ::1) keeps IPv6; a user's --sysctl is applied by the runtime afterwards and wins.
 * Disabling drops the addresses the kernel had already given the interface.
 */
export function setInterfaceIPv6(file: string, ifname: string, enable: boolean): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(ifname)) throw new Error(`invalid interface name ${ifname}`);
  inNetns(file, () => {
    try {
      fs.writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, enable ? '0' : '1');
    } catch (e) {
      // no IPv6 in this kernel: nothing to disable (and nothing to enable)
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  });
}

/**
 * Back to the host's network namespace, before anything else can run: failing here would leave
 * berthd's main thread in a container's namespace, so it is fatal.
 */
function returnHome(home: number): void {
  try {
    native().setns(home, CLONE_NEWNET);
  } catch (e) {
    process.stderr.write(`berthd: cannot return to the host network namespace: ${(e as Error).message}\n`);
    process.exit(70);
  }
}

/** Runs `fn` (synchronous) on berthd's main thread inside the namespace mounted at `file`. */
function inNetns(file: string, fn: () => void): void {
  const n = native();
  const home = fs.openSync('/proc/thread-self/ns/net', 'r');
  const target = fs.openSync(file, 'r');
  try {
    n.setns(target, CLONE_NEWNET);
    try {
      fn();
    } finally {
      returnHome(home);
    }
  } finally {
    fs.closeSync(target);
    fs.closeSync(home);
  }
}

/** True when `file` is a mounted network namespace (and not just the empty file under it). */
export function isNetns(file: string): boolean {
  try {
    // A mounted namespace file lives on nsfs, a device of its own (Node 20 has no statfs).
    const st = fs.statSync(file);
    const parent = fs.statSync(file.slice(0, file.lastIndexOf('/')) || '/');
    return st.dev !== parent.dev;
  } catch {
    return false;
  }
}

/** Unmounts and removes the namespace file; a namespace still used by processes lives on with them. */
export function removeNetns(file: string): void {
  for (let i = 0; i < 4 && isNetns(file); i++) {
    try {
      native().umount2(file, MNT_DETACH);
    } catch {
      break;
    }
  }
  fs.rmSync(file, { force: true });
}
