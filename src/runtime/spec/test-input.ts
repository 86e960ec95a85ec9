/** The SpecInput the spec unit tests start from (a plain container), with their changes. */
import type { SpecInput } from './spec';
import { DEFAULT_CAPABILITIES } from './capabilities';

export function testSpecInput(over: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'abc',
    rootfs: '/r/merged',
    args: ['sh'],
    env: ['PATH=/bin'],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [],
    hostname: 'abc',
    tty: false,
    openStdin: false,
    etcFiles: { hosts: '/r/hosts', hostname: '/r/hostname', resolvConf: '/r/resolv.conf' },
    cgroupsPath: '/berth/abc',
    networkNamespace: 'new',
    bounding: [...DEFAULT_CAPABILITIES],
    ...over,
  };
}
