import { readFileSync } from 'node:fs';

/** The global setup hands its servers to the test workers through a file named here. */
export const HARNESS_STATE_ENV = 'WAKE_TEST_HARNESS';

export interface HarnessState {
  root: string;
  postgresUrl: string;
  postgresPid?: number;
  /** A JetStream nats-server shared by the run. */
  natsUrl: string;
}

export function readHarnessState(): HarnessState | undefined {
  const file = process.env[HARNESS_STATE_ENV];
  if (!file) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as HarnessState;
}

export function requireHarnessState(): HarnessState {
  const state = readHarnessState();
  if (!state)
    throw new Error(
      `${HARNESS_STATE_ENV} is not set: run integration tests through jest's integration project`,
    );
  return state;
}
