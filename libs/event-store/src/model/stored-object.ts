/**
 * The part of a Kubernetes object the store itself manages. Everything else (spec, status,
 * data, ...) is carried as it is; the API layer validates it against the upstream schemas.
 */
export interface StoredMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface StoredObject {
  apiVersion?: string;
  kind?: string;
  metadata: StoredMeta;
  [field: string]: unknown;
}
