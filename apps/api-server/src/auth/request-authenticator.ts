import { type Actor } from '@app/event-store';

import { isRefusal, type ServiceAccountAuthenticator } from './service-account-authenticator.js';
import { type TokenFile } from './token-file.js';

/**
 * Bearer tokens, tried as upstream's union of token authenticators: the static token file,
 * then service-account JWTs. Undefined means 401; why a token was refused goes to `onRefused`
 * (the server's log), never to the client, and the token itself never goes anywhere.
 */
export class RequestAuthenticator {
  constructor(
    private readonly tokens: TokenFile,
    private readonly serviceAccounts: ServiceAccountAuthenticator | undefined,
    private readonly onRefused: (why: string) => void = () => undefined,
  ) {}

  async authenticate(token: string): Promise<Actor | undefined> {
    const fromFile = this.tokens.authenticate(token);
    if (fromFile || !this.serviceAccounts) return fromFile;
    try {
      const result = await this.serviceAccounts.authenticate(token);
      if (!isRefusal(result)) return result;
      this.onRefused(result.refused);
    } catch (e) {
      // A lookup that failed or took too long: the request is refused, as upstream does.
      this.onRefused(`validating a service account token failed: ${(e as Error).message}`);
    }
    return undefined;
  }
}
