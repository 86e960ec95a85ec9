/**
 * Regular expressions from API input (name filters of `ps` and `volume ls`). Docker compiles
 * them with Go's RE2, which runs in linear time; V8's default engine backtracks, and a pattern
 * such as `^(a+)+$` against a long name would hold the event loop, i.e. the whole daemon, for
 * minutes. V8's linear-time engine (the `l` flag) runs them as RE2 would; like RE2 it refuses
 * backreferences and lookaround, and the callers decide what such a pattern means.
 */
import v8 from 'node:v8';

let linearEngine = false;

/** A quantified group that itself holds a quantifier, `(a+)+`: the shape of catastrophic backtracking. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]/;

/**
 * Compiles `pattern` for the linear-time engine. What that engine does not take (large counted
 * repetitions such as `a{60}`) is compiled normally unless it has a nested quantifier or a
 * backreference; those throw SyntaxError, as an invalid pattern does.
 */
export function linearRegExp(pattern: string): RegExp {
  if (!linearEngine) {
    v8.setFlagsFromString('--enable-experimental-regexp-engine');
    linearEngine = true;
  }
  try {
    // eslint-disable-next-line no-invalid-regexp -- 'l' is V8's linear-engine flag, enabled above
    return new RegExp(pattern, 'l');
  } catch (e) {
    if (NESTED_QUANTIFIER.test(pattern) || /\\[1-9k]/.test(pattern)) throw e;
    return new RegExp(pattern);
  }
}
