/** Random container names in Docker's `adjective_surname` shape, from berth's own word lists. */
import crypto from 'node:crypto';

const LEFT = [
  'agile', 'amber', 'ancient', 'bold', 'brave', 'bright', 'calm', 'clever', 'cosmic', 'crisp', 'curious',
  'daring', 'eager', 'earnest', 'fancy', 'fearless', 'festive', 'gentle', 'glad', 'golden', 'happy', 'hardy',
  'honest', 'humble', 'jolly', 'keen', 'kind', 'lively', 'loyal', 'lucid', 'merry', 'mighty', 'modest',
  'nimble', 'noble', 'patient', 'placid', 'polite', 'proud', 'quick', 'quiet', 'rapid', 'ready', 'serene',
  'sharp', 'silent', 'sleepy', 'smart', 'snowy', 'solid', 'steady', 'stoic', 'sunny', 'swift', 'tender',
  'tidy', 'trusty', 'upbeat', 'vivid', 'warm', 'wise', 'witty', 'zealous',
];

const RIGHT = [
  'agnesi', 'babbage', 'bohr', 'boole', 'cannon', 'carson', 'curie', 'darwin', 'dijkstra', 'euler',
  'faraday', 'fermat', 'feynman', 'franklin', 'gauss', 'goodall', 'hamilton', 'hawking', 'hertz', 'hopper',
  'hypatia', 'johnson', 'kepler', 'knuth', 'lamarr', 'leakey', 'lovelace', 'maxwell', 'meitner', 'mendel',
  'mirzakhani', 'newton', 'noether', 'pascal', 'pasteur', 'planck', 'ramanujan', 'ride', 'ritchie',
  'sagan', 'shannon', 'somerville', 'tesla', 'thompson', 'torvalds', 'turing', 'volta', 'wiles', 'wright',
  'yalow', 'yonath',
];

export function randomName(retry = 0): string {
  const b = crypto.randomBytes(3);
  const name = `${LEFT[b[0] % LEFT.length]}_${RIGHT[b[1] % RIGHT.length]}`;
  return retry > 0 ? `${name}${b[2] % 10}` : name;
}

export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
