import { type PatchType } from '../objects/object-service.js';

function ranges(accept: string | undefined): Map<string, string>[] {
  return (accept ?? '').split(',').map(
    (range) =>
      new Map(
        range
          .split(';')
          .slice(1)
          .map((p) => {
            const [k, v = ''] = p.trim().split('=');
            return [k, v] as [string, string];
          }),
      ),
  );
}

/** The meta.k8s.io Table version an Accept header asks for (kubectl get asks for v1, then v1beta1). */
export function tableVersion(accept: string | undefined): 'v1' | 'v1beta1' | undefined {
  for (const params of ranges(accept)) {
    if (params.get('as') !== 'Table' || params.get('g') !== 'meta.k8s.io') continue;
    const v = params.get('v');
    if (v === 'v1' || v === 'v1beta1') return v;
  }
  return undefined;
}

export type BodyFormat =
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'patch'; type: PatchType }
  | { kind: 'apply' }
  | { kind: 'protobuf' };

/** How a request body is encoded, from its Content-Type; no Content-Type means JSON (kubectl's `scale` PUT sends none). */
export function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  const media = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  switch (media) {
    case '':
    case 'application/json':
      return { kind: 'json' };
    case 'application/yaml':
      return { kind: 'yaml' };
    case 'application/merge-patch+json':
      return { kind: 'patch', type: 'merge' };
    case 'application/json-patch+json':
      return { kind: 'patch', type: 'json' };
    case 'application/strategic-merge-patch+json':
      return { kind: 'patch', type: 'strategic' };
    case 'application/apply-patch+yaml':
      return { kind: 'apply' };
    case 'application/vnd.kubernetes.protobuf':
      return { kind: 'protobuf' };
    default:
      return undefined;
  }
}
