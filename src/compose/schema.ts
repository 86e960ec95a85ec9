/**
 * A small JSON-schema (draft-07) validator for the subset the Compose Specification's schema uses:
 * type, properties, patternProperties, additionalProperties, required, enum, oneOf/anyOf/allOf,
 * $ref to #/definitions, items, pattern, minimum/maximum, uniqueItems, and format "duration".
 * Errors carry the key path, so that messages name the file, the key and the problem.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
  items?: Schema;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  uniqueItems?: boolean;
  definitions?: Record<string, Schema>;
}

export interface SchemaError {
  /** Key path: ['services', 'web', 'ports', '0']. */
  path: string[];
  message: string;
}

const DURATION = /^([+-]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$/;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function describe(types: string[]): string {
  const named = types.map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`));
  return named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} or ${named[named.length - 1]}`;
}

export class Validator {
  private readonly regexes = new Map<string, RegExp>();
  constructor(private readonly root: Schema) {}

  validate(value: unknown): SchemaError[] {
    const errors: SchemaError[] = [];
    this.check(this.root, value, [], errors);
    return errors;
  }

  private re(p: string): RegExp {
    let r = this.regexes.get(p);
    if (!r) this.regexes.set(p, (r = new RegExp(p, 'u')));
    return r;
  }

  private resolve(ref: string): Schema {
    const m = /^#\/definitions\/(.+)$/.exec(ref);
    const s = m ? this.root.definitions?.[m[1]] : undefined;
    if (!s) throw new Error(`schema: unresolvable $ref ${ref}`);
    return s;
  }

  private check(s: Schema, v: unknown, p: string[], errors: SchemaError[]): void {
    if (s.$ref) return this.check(this.resolve(s.$ref), v, p, errors);
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? s.type : [s.type];
      if (!types.some((t) => typeMatches(v, t))) {
        errors.push({ path: p, message: `must be ${describe(types)}` });
        return;
      }
    }
    if (s.enum && !s.enum.some((e) => e === v)) {
      errors.push({ path: p, message: `must be one of: ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` });
    }
    if (typeof v === 'string') this.checkString(s, v, p, errors);
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < s.minimum) errors.push({ path: p, message: `must be >= ${s.minimum}` });
      if (s.maximum !== undefined && v > s.maximum) errors.push({ path: p, message: `must be <= ${s.maximum}` });
    }
    if (Array.isArray(v)) this.checkArray(s, v, p, errors);
    else if (v && typeof v === 'object') this.checkObject(s, v as Record<string, unknown>, p, errors);
    for (const sub of s.allOf ?? []) this.check(sub, v, p, errors);
    if (s.anyOf) this.alternatives(s.anyOf, v, p, errors, false);
    if (s.oneOf) this.alternatives(s.oneOf, v, p, errors, true);
  }

  private checkString(s: Schema, v: string, p: string[], errors: SchemaError[]): void {
    if (s.pattern && !this.re(s.pattern).test(v)) errors.push({ path: p, message: `${JSON.stringify(v)} does not match ${JSON.stringify(s.pattern)}` });
    if (s.format === 'duration' && !DURATION.test(v)) errors.push({ path: p, message: `${JSON.stringify(v)} is not a duration` });
  }

  private checkArray(s: Schema, v: unknown[], p: string[], errors: SchemaError[]): void {
    if (s.items) v.forEach((item, i) => this.check(s.items as Schema, item, [...p, String(i)], errors));
    if (s.uniqueItems) {
      const seen = new Set<string>();
      for (const item of v) {
        const key = JSON.stringify(item);
        if (seen.has(key)) errors.push({ path: p, message: `has duplicate item ${key}` });
        seen.add(key);
      }
    }
  }

  private checkObject(s: Schema, v: Record<string, unknown>, p: string[], errors: SchemaError[]): void {
    for (const r of s.required ?? []) if (!(r in v)) errors.push({ path: p, message: `missing required property '${r}'` });
    for (const [k, val] of Object.entries(v)) {
      let matched = false;
      const prop = s.properties?.[k];
      if (prop) {
        matched = true;
        this.check(prop, val, [...p, k], errors);
      }
      for (const [pat, sub] of Object.entries(s.patternProperties ?? {})) {
        if (this.re(pat).test(k)) {
          matched = true;
          this.check(sub, val, [...p, k], errors);
        }
      }
      if (matched || s.additionalProperties === undefined || s.additionalProperties === true) continue;
      if (s.additionalProperties === false) errors.push({ path: p, message: `additional property '${k}' is not allowed` });
      else this.check(s.additionalProperties, val, [...p, k], errors);
    }
  }

  /**
   * oneOf/anyOf. When no branch fits, the most useful message is the one of the branch that got
   * furthest (its errors lie deepest); if every branch failed at this very key on its type, the
   * message lists the types allowed.
   */
  private alternatives(branches: Schema[], v: unknown, p: string[], errors: SchemaError[], exactlyOne: boolean): void {
    const results = branches.map((b) => {
      const e: SchemaError[] = [];
      this.check(b, v, p, e);
      return e;
    });
    const ok = results.filter((r) => r.length === 0).length;
    if (ok === 1 || (ok > 1 && !exactlyOne)) return;
    if (ok > 1) {
      errors.push({ path: p, message: 'matches more than one of the allowed forms' });
      return;
    }
    const depth = (r: SchemaError[]): number => Math.max(...r.map((e) => e.path.length));
    const best = results.reduce((a, b) => (depth(b) > depth(a) ? b : a));
    if (depth(best) > p.length || best.some((e) => !e.message.startsWith('must be a'))) {
      errors.push(...best);
      return;
    }
    const types = new Set<string>();
    for (const b of branches) for (const t of this.branchTypes(b)) types.add(t);
    errors.push({ path: p, message: `must be ${describe([...types])}` });
  }

  private branchTypes(s: Schema): string[] {
    if (s.$ref) return this.branchTypes(this.resolve(s.$ref));
    if (s.type) return Array.isArray(s.type) ? s.type : [s.type];
    return [...(s.oneOf ?? []), ...(s.anyOf ?? [])].flatMap((b) => this.branchTypes(b));
  }
}

let composeValidator: Validator | undefined;

/** Where the Compose Specification's schema is: shipped beside the code, else the shared reference copy. */
function schemaPath(): string {
  const candidates = [
    path.join(__dirname, 'compose-spec.json'),
    path.resolve(__dirname, '..', '..', '..', 'src', 'compose', 'compose-spec.json'),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return candidates[candidates.length - 1];
}

/** Validates a (merged, interpolated) compose model; errors as "key.path: problem" strings. */
export function validateCompose(model: unknown): SchemaError[] {
  if (!composeValidator) composeValidator = new Validator(JSON.parse(fs.readFileSync(schemaPath(), 'utf8')) as Schema);
  return composeValidator.validate(model);
}

export function formatSchemaError(file: string, e: SchemaError): string {
  return `validating ${file}: ${e.path.length ? e.path.join('.') : '(root)'} ${e.message}`;
}
