/**
 * The shape the controller manager runs its controllers through. Declared here until the
 * controller manager's own module (built in parallel) provides it; the two are the same.
 */
export interface Controller {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
