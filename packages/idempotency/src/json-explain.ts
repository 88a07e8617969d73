// Canonical JSON with the path of the first problem: the slow, descriptive twin of json.ts's walks.
export const MAX_DEPTH = 64;

/** Why a value is not plain JSON, with the path to the offending part. */
export interface JsonProblem {
  path: string;
  reason: string;
}

export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The reference walk behind `canonicalJson`: the same canonical text, or the first problem with the
 * path to it. It tracks the path on every step, so `canonicalJson` runs it only when its own fast walk
 * found a problem to describe.
 */
export function explainJson(value: unknown): string | JsonProblem {
  // Objects and keys on the current path: a cycle check, and the error path built only on failure.
  const objects: object[] = [];
  const keys: (string | number)[] = [];
  let problem: JsonProblem | undefined;
  const fail = (reason: string): string => {
    problem ??= {
      path: `$${keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`,
      reason,
    };
    return '';
  };
  const walk = (v: unknown): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        return Number.isFinite(v) ? String(v) : fail(`${v} is not a JSON number`);
      case 'object':
        break;
      default:
        return fail(`${typeof v} is not JSON`);
    }
    const obj = v as object;
    if (objects.length >= MAX_DEPTH) return fail(`nested deeper than ${MAX_DEPTH}`);
    if (objects.includes(obj)) return fail('circular reference');
    objects.push(obj);
    let out: string;
    if (Array.isArray(obj)) {
      out = '[';
      for (let i = 0; i < obj.length && !problem; i++) {
        keys.push(i);
        const item = obj[i];
        out += `${i > 0 ? ',' : ''}${item === undefined ? fail('undefined is not JSON') : walk(item)}`;
        keys.pop();
      }
      out += ']';
    } else if (!isPlainObject(obj)) {
      out = fail(`${obj.constructor?.name ?? 'object'} is not a plain JSON object`);
    } else {
      out = '{';
      let first = true;
      for (const k of Object.keys(obj).sort()) {
        const child = (obj as Record<string, unknown>)[k];
        if (child === undefined) continue; // JSON drops undefined properties; so do we
        keys.push(k);
        out += `${first ? '' : ','}${JSON.stringify(k)}:${walk(child)}`;
        keys.pop();
        first = false;
        if (problem) break;
      }
      out += '}';
    }
    objects.pop();
    return out;
  };
  const text = walk(value === undefined ? null : value);
  return problem ?? text;
}
