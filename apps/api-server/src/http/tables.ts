import { type IncludeObject, printerFor, type ResourceType, rowObject, type Table } from '@app/api';
import { type StoredObject } from '@app/event-store';

/** Objects as a meta.k8s.io Table with the kind's columns (what `kubectl get` prints). */
export function toTable(
  t: ResourceType,
  items: StoredObject[],
  version: 'v1' | 'v1beta1',
  include: IncludeObject,
  meta: Table['metadata'] = {},
  withColumns = true,
): Table {
  const printer = printerFor(t.group, t.plural);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}` as 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: withColumns ? printer.columns : [],
    rows: items.map((o) => ({ cells: printer.cells(o, now), object: rowObject(o, include) })),
  };
}
