/**
 * Stage selectors: kwok's `matchLabels` and `matchExpressions`, whose keys are jq expressions
 * over the object (kwok pkg/apis/v1alpha1 stage_types.go, SelectorRequirement). Only the jq
 * that stages use is understood: paths (`.status.podIP`, `.metadata.labels["a/b"]`), array
 * iteration (`.spec.containers.[]`), and `select(<path> == <literal>)` between pipes
 * (`.status.conditions.[] | select(.type == "Ready") | .status`).
 */
export interface SelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: readonly string[];
}

export interface StageSelector {
  matchLabels?: Record<string, string>;
  matchAnnotations?: Record<string, string>;
  matchExpressions?: SelectorRequirement[];
}

type Step =
  { kind: 'field'; name: string } | { kind: 'each' } | { kind: 'select'; path: Step[]; equals: unknown };

const compiled = new Map<string, Step[][]>();

/** The values `expression` yields on `object` (jq's output stream; null and absent yield nothing). */
export function evaluate(expression: string, object: unknown): unknown[] {
  let program = compiled.get(expression);
  if (!program) compiled.set(expression, (program = compile(expression)));
  let values: unknown[] = [object];
  for (const stage of program) values = values.flatMap((v) => run(stage, v));
  return values.filter((v) => v !== null && v !== undefined);
}

export function matches(selector: StageSelector | undefined, object: unknown): boolean {
  if (!selector) return true;
  const meta = (
    object as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } }
  ).metadata;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (meta?.labels?.[k] !== v) return false;
  for (const [k, v] of Object.entries(selector.matchAnnotations ?? {}))
    if (meta?.annotations?.[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((r) => requirementHolds(r, object));
}

/** kwok's semantics: In holds when any value yielded is listed, NotIn when none is; Exists when any value is yielded. */
function requirementHolds(r: SelectorRequirement, object: unknown): boolean {
  const values = evaluate(r.key, object).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  switch (r.operator) {
    case 'Exists':
      return values.length > 0;
    case 'DoesNotExist':
      return values.length === 0;
    case 'In':
      return values.some((v) => r.values?.includes(v));
    case 'NotIn':
      return !values.some((v) => r.values?.includes(v));
  }
}

function run(steps: Step[], value: unknown): unknown[] {
  let values = [value];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of values) {
      if (v === null || v === undefined) continue;
      if (step.kind === 'field') next.push((v as Record<string, unknown>)[step.name]);
      else if (step.kind === 'each') {
        if (Array.isArray(v)) next.push(...(v as unknown[]));
        else if (typeof v === 'object') next.push(...Object.values(v));
      } else if (run(step.path, v).some((x) => x === step.equals)) next.push(v);
    }
    values = next;
  }
  return values;
}

function compile(expression: string): Step[][] {
  return expression.split('|').map((part) => {
    const text = part.trim();
    const select = /^select\(\s*(.+?)\s*==\s*(.+?)\s*\)$/.exec(text);
    if (select) return [{ kind: 'select', path: parsePath(select[1]!), equals: JSON.parse(select[2]!) }];
    return parsePath(text);
  });
}

function parsePath(text: string): Step[] {
  if (text === '.') return [];
  const steps: Step[] = [];
  const token = /\.?\[\]|\.?\["((?:[^"\\]|\\.)*)"\]|\.([A-Za-z_][A-Za-z0-9_]*)/y;
  let at = 0;
  while (at < text.length) {
    token.lastIndex = at;
    const m = token.exec(text);
    if (!m) throw new Error(`stage selector: cannot read ${JSON.stringify(text)} at ${at}`);
    if (m[0].endsWith('[]')) steps.push({ kind: 'each' });
    else
      steps.push({ kind: 'field', name: m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : m[2]! });
    at = token.lastIndex;
  }
  return steps;
}
