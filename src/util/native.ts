/**
 * The native module (native/berth_native.c): privileged system calls Node lacks.
 * Loaded lazily so that commands which never need it (most of the CLI) do not pay for it.
 */
import path from 'node:path';

export interface Native {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount2(target: string, flags: number): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  setns(fd: number, nstype: number): void;
  unshare(flags: number): void;
  seqpacketConnect(path: string): number;
  /** Connects a SEQPACKET socket; returns a SOCK_STREAM fd pumped to it by a thread (see the C file). */
  seqpacketPump(path: string): number;
  /** cfmakeraw on a terminal (see the C file for why libuv's raw mode is not enough). */
  ttyMakeRaw(fd: number): void;
  /** An idmapped bind mount of `source` at `target`, with the mappings of the user namespace open as `usernsFd`. */
  idmapMount(source: string, target: string, usernsFd: number): void;
}

let loaded: Native | undefined;

export function native(): Native {
  if (!loaded) {
    // dist/src/util/native.js -> <root>/native/build/Release
    const file = path.join(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'berth_native.node');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon can only be loaded by require
    loaded = require(file) as Native;
  }
  return loaded;
}

/** mount(2) flags used by berth. */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
} as const;

/** umount2(2) flags. */
export const MNT_DETACH = 0x2;
