/**
 * One controller of the controller manager (replicaset, garbage collector, deployment...).
 * The manager starts every enabled controller once this replica leads, after the shared
 * informers have synced, and stops them on shutdown or when leadership is lost.
 */
export interface Controller {
  /** The name `--controllers` enables it by (upstream's: "replicaset", "garbage-collector"...). */
  readonly name: string;
  /** May resolve once it is running (the garbage collector waits for its informers). */
  start(): void | Promise<void>;
  /** Stops taking work and waits for the reconciles in flight. */
  stop(): Promise<void>;
}
