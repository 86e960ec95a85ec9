import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterPs } from './top';

test('filterPs: the header, rows of the given PIDs, commands with spaces kept whole', () => {
  const ps = 'UID   PID  PPID  C STIME TTY  TIME     CMD\nroot    1     0  0 10:00 ?    00:00:01 /sbin/init splash\nroot  420     1  0 10:01 ?    00:00:00 sleep 1000\nuser  421   420  0 10:01 ?    00:00:00 sh -c echo hi\n';
  assert.deepEqual(filterPs(ps, new Set([420, 421])), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [
      ['root', '420', '1', '0', '10:01', '?', '00:00:00', 'sleep 1000'],
      ['user', '421', '420', '0', '10:01', '?', '00:00:00', 'sh -c echo hi'],
    ],
  });
  assert.throws(() => filterPs('USER COMMAND\nroot x\n', new Set([1])), /Couldn't find PID field/);
});
