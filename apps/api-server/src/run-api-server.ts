import { startApiServer } from './api-server.js';
import { type ApiServerConfig } from './config.js';

/** The line supervisors and scripts wait for, followed by the server's URL. */
export const READY_LINE = 'api-server listening on ';

/** Runs the API server until SIGTERM or SIGINT, announcing readiness on stdout; then stops it gracefully. */
export async function runApiServer(config: ApiServerConfig): Promise<number> {
  const server = await startApiServer(config);
  process.stdout.write(`${READY_LINE}${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
  return 0;
}
