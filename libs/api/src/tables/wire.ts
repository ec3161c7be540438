/**
 * A Kubernetes model type as it is on the wire: the generated client types say `Date` where
 * JSON carries an RFC 3339 string. Printers read stored JSON, so they see strings.
 */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;
