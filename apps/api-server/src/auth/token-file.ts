import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

import { type Actor } from '@app/event-store';

export interface TokenUser {
  user: string;
  uid: string;
  groups: string[];
}

/** The identities Wake issues tokens for on first start: the admin and each control-plane component. */
export const BUILTIN_USERS: TokenUser[] = [
  { user: 'admin', uid: 'admin', groups: ['system:masters', 'system:authenticated'] },
  { user: 'system:kube-scheduler', uid: 'kube-scheduler', groups: ['system:authenticated'] },
  {
    user: 'system:kube-controller-manager',
    uid: 'kube-controller-manager',
    groups: ['system:authenticated'],
  },
  { user: 'system:kube-proxy', uid: 'kube-proxy', groups: ['system:authenticated'] },
  { user: 'system:node-bootstrap', uid: 'node-bootstrap', groups: ['system:nodes', 'system:authenticated'] },
];

/**
 * Bearer tokens in the apiserver's static token file format (`token,user,uid,"group1,group2"`),
 * one line per identity. Tokens are compared by their SHA-256 (constant-length lookups), and
 * the event log records only that digest's prefix, never the token.
 */
export class TokenFile {
  private readonly byDigest = new Map<string, TokenUser & { token: string }>();

  private constructor(readonly path: string) {}

  /** Reads the file, adding a token for every built-in identity it lacks. */
  static async ensure(path: string, users: TokenUser[] = BUILTIN_USERS): Promise<TokenFile> {
    const file = new TokenFile(path);
    if (existsSync(path)) file.parse(await readFile(path, 'utf8'));
    let added = false;
    for (const u of users) {
      if ([...file.byDigest.values()].some((e) => e.user === u.user)) continue;
      file.add({ ...u, token: randomBytes(24).toString('base64url') });
      added = true;
    }
    if (added) await writeFile(path, file.serialize(), { mode: 0o600 });
    return file;
  }

  tokenOf(user: string): string {
    const e = [...this.byDigest.values()].find((x) => x.user === user);
    if (!e) throw new Error(`no token for ${user} in ${this.path}`);
    return e.token;
  }

  /** The actor a bearer token proves, or undefined. */
  authenticate(token: string): Actor | undefined {
    const digest = sha256(token);
    const e = this.byDigest.get(digest);
    if (!e) return undefined;
    return { user: e.user, uid: e.uid, groups: e.groups, credential: `token:sha256:${digest.slice(0, 12)}` };
  }

  private add(e: TokenUser & { token: string }): void {
    this.byDigest.set(sha256(e.token), e);
  }

  private parse(text: string): void {
    for (const line of text.split('\n')) {
      const m = /^([^,]+),([^,]+),([^,]*)(?:,"([^"]*)")?\s*$/.exec(line.trim());
      if (!m) continue;
      this.add({ token: m[1], user: m[2], uid: m[3], groups: m[4] ? m[4].split(',') : [] });
    }
  }

  private serialize(): string {
    return (
      [...this.byDigest.values()]
        .map((e) => `${e.token},${e.user},${e.uid},"${e.groups.join(',')}"`)
        .join('\n') + '\n'
    );
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
