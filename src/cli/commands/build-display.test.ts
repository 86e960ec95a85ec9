import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendProgress, StepTimer, formatElapsed } from './build-display';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('"Sending build context": only the last value off a terminal, redrawn at most every 100ms on one', () => {
  let s = '';
  const out = { write: (x: string) => (s += x) };
  const c = clock();
  let p = new SendProgress(out, false, c.now);
  p.update(512, false);
  p.update(15870, false);
  p.update(15872, true);
  p.update(99999, true);
  assert.equal(s, 'Sending build context to Docker daemon  15.87kB\r\r\n');

  s = '';
  p = new SendProgress(out, true, c.now);
  p.update(1000, false);
  c.advance(50);
  p.update(2000, false); // too soon
  c.advance(60);
  p.update(3_500_000, false);
  p.update(3_600_000, true);
  assert.equal(
    s,
    'Sending build context to Docker daemon      1kB\r' +
      'Sending build context to Docker daemon    3.5MB\r' +
      'Sending build context to Docker daemon    3.6MB\r\r\n',
  );
  // an upload cut short ends its line
  s = '';
  p = new SendProgress(out, true, c.now);
  p.update(1000, false);
  p.abort();
  assert.equal(s, 'Sending build context to Docker daemon      1kB\r\n');
});

test('elapsed times', () => {
  assert.equal(formatElapsed(0), '0.0s');
  assert.equal(formatElapsed(420), '0.4s');
  assert.equal(formatElapsed(12_049), '12.0s');
  assert.equal(formatElapsed(125_000), '2m05s');
});

test('step timings: the line that ends a step gets its time; RUN output is left alone', () => {
  const c = clock();
  const t = new StepTimer(false, c.now);
  let out = '';
  out += t.feed('Step 1/3 : FROM busybox\n');
  c.advance(100);
  out += t.feed(' ---> d231f7018b0e\n');
  out += t.feed('Step 2/3 : RUN echo hi\n ---> Running in 925f05506b2f\n');
  c.advance(1500);
  // output that looks like the builder's own lines, cut anywhere
  out += t.feed('hi\nStep 9/9 : fake\n ---> abcdef0123');
  out += t.feed('45\nno newline');
  out += t.feed('Removing intermediate container 925f05506b2f\n');
  c.advance(200);
  out += t.feed(' ---> c67b');
  out += t.feed('d59fed1f\n');
  out += t.feed('Step 3/3 : ENV A=1\n ---> Using cache\n');
  out += t.feed(' ---> 0123456789ab\nSuccessfully built 0123456789ab\n');
  out += t.flush();
  out += t.total(2345);
  assert.equal(
    out,
    [
      'Step 1/3 : FROM busybox',
      ' ---> d231f7018b0e (0.1s)',
      'Step 2/3 : RUN echo hi',
      ' ---> Running in 925f05506b2f',
      'hi',
      'Step 9/9 : fake',
      ' ---> abcdef012345',
      'no newlineRemoving intermediate container 925f05506b2f',
      ' ---> c67bd59fed1f (1.7s)',
      'Step 3/3 : ENV A=1',
      ' ---> Using cache',
      ' ---> 0123456789ab (0.0s)',
      'Successfully built 0123456789ab',
      'Built in 2.3s',
      '',
    ].join('\n'),
  );
});

test('step timings: dim on a terminal; quiet where parallel stages interleave; a held partial line is flushed', () => {
  const c = clock();
  const t = new StepTimer(true, c.now);
  assert.equal(t.feed('Step 1/2 : FROM a\n'), 'Step 1/2 : FROM a\n');
  assert.equal(t.feed(' ---> 0123456789ab\n'), ' ---> 0123456789ab \x1b[2m(0.0s)\x1b[0m\n');
  assert.equal(t.total(500), '\x1b[2mBuilt in 0.5s\x1b[0m\n');
  const p = new StepTimer(false, c.now);
  let out = p.feed('Step 1/4 : FROM a AS x\nStep 2/4 : FROM b AS y\n ---> 0123456789ab\n ---> 0123456789ac\n');
  out += p.feed('Step 3/4 : COPY --from=x / /\n ---> 0123456789ad\n');
  assert.equal(out, 'Step 1/4 : FROM a AS x\nStep 2/4 : FROM b AS y\n ---> 0123456789ab\n ---> 0123456789ac\nStep 3/4 : COPY --from=x / /\n ---> 0123456789ad (0.0s)\n');
  assert.equal(p.feed(' --'), '');
  assert.equal(p.flush(), ' --');
  assert.equal(p.feed(' -x'), ' -x');
});
