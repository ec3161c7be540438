import { isObject, type ResourceRegistry, type StatusCause, StatusError } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type ObjectService } from '../objects/object-service.js';
import { signJwt, type SigningKey } from './jwt.js';
import {
  type BoundObjects,
  EXTENDED_EXPIRATION_SECONDS,
  type ObjectRef,
  tokenClaims,
  WARN_ONLY_EXPIRATION_SECONDS,
} from './service-account-claims.js';

/** authentication.k8s.io/v1 TokenRequest defaults and validation (pkg/apis/authentication). */
export const DEFAULT_EXPIRATION_SECONDS = 60 * 60;
export const MIN_EXPIRATION_SECONDS = 10 * 60;
const MAX_UINT32 = 4294967295;

export interface TokenRequestOptions {
  key: SigningKey;
  issuer: string;
  /** The API server's audiences: the default for a request that names none. */
  audiences: string[];
  /** Longer requests are shortened to this (`--service-account-max-token-expiration`); 0 or absent: no bound. */
  maxExpirationSeconds?: number;
  /**
   * Pod-bound tokens asked for the kubelet's 3607 s live a year, flagged stale after 3607 s
   * (`--service-account-extend-token-expiration`, default true).
   */
  extendExpiration?: boolean;
}

interface BoundObjectReference {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

/** A TokenRequest as the API serves it (authentication.k8s.io/v1). */
export interface TokenRequest {
  kind: 'TokenRequest';
  apiVersion: 'authentication.k8s.io/v1';
  metadata: { name: string; namespace: string; creationTimestamp: string };
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef: BoundObjectReference | null };
  status: { token: string; expirationTimestamp: string };
}

const TOKEN_REQUEST = { kind: 'TokenRequest', resource: 'tokenrequests', group: 'authentication.k8s.io' };

/**
 * `POST serviceaccounts/<name>/token`: a signed token for the service account, as upstream's
 * pkg/registry/core/serviceaccount/storage/token.go (TokenREST.Create). A TokenRequest is not
 * stored: nothing is appended to the event log, and the token exists only in the reply.
 */
export class TokenRequests {
  constructor(
    private readonly objects: ObjectService,
    private readonly registry: ResourceRegistry,
    private readonly o: TokenRequestOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async create(namespace: string, name: string, body: unknown): Promise<TokenRequest> {
    const req = isObject(body) ? body : {};
    const meta = isObject(req.metadata) ? req.metadata : {};
    const spec = isObject(req.spec) ? req.spec : {};
    // Name and namespace in the body, when given, must be the URL's.
    if (typeof meta.name === 'string' && meta.name !== '' && meta.name !== name)
      throw invalid(name, 'metadata.name', meta.name, 'must match the service account name if specified');
    if (typeof meta.namespace === 'string' && meta.namespace !== '' && meta.namespace !== namespace)
      throw invalid(
        name,
        'metadata.namespace',
        meta.namespace,
        'must match the service account namespace if specified',
      );

    const sa = await this.objects.get(this.type('serviceaccounts'), namespace, name);

    const audiences =
      Array.isArray(spec.audiences) && spec.audiences.length
        ? spec.audiences.map((a) => String(a))
        : [...this.o.audiences];
    const requested = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (typeof requested !== 'number' || !Number.isInteger(requested))
      throw StatusError.badRequest(
        `TokenRequest in version "v1" cannot be handled as a TokenRequest: spec.expirationSeconds: ${JSON.stringify(requested)} is not an integer`,
      );
    const nowMs = this.now();
    // ValidateTokenRequest (pkg/apis/authentication/validation).
    if (requested < MIN_EXPIRATION_SECONDS)
      throw invalid(
        '',
        'spec.expirationSeconds',
        requested,
        'may not specify a duration less than 10 minutes',
      );
    if (requested > MAX_UINT32)
      throw StatusError.invalid({ ...TOKEN_REQUEST, name: '' }, [
        {
          reason: 'FieldValueTooLong',
          message: `Too long: may not be more than ${MAX_UINT32} bytes`,
          field: 'spec.expirationSeconds',
        },
      ]);

    const ref = isObject(spec.boundObjectRef) ? (spec.boundObjectRef as BoundObjectReference) : undefined;
    const bound = ref ? await this.boundObjects(namespace, name, ref) : undefined;

    let expirationSeconds = requested;
    const max = this.o.maxExpirationSeconds ?? 0;
    if (max > 0 && expirationSeconds > max) expirationSeconds = max;

    // The kubelet's projected tokens: valid for long, reported stale after the hour (token.go).
    let exp = expirationSeconds;
    let warnAfterSeconds = 0;
    const kubeAudiences = audiences.every((a) => this.o.audiences.includes(a));
    if (
      (this.o.extendExpiration ?? true) &&
      bound?.pod &&
      expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS &&
      kubeAudiences
    ) {
      warnAfterSeconds = exp;
      exp = max > 0 ? Math.min(max, EXTENDED_EXPIRATION_SECONDS) : EXTENDED_EXPIRATION_SECONDS;
    }

    const claims = tokenClaims({
      issuer: this.o.issuer,
      namespace,
      serviceAccount: { name, uid: String(sa.metadata.uid) },
      bound,
      expirationSeconds: exp,
      warnAfterSeconds,
      audiences,
      nowSeconds: nowMs / 1000,
    });
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, creationTimestamp: rfc3339(nowMs) },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: {
        token: signJwt({ ...claims }, this.o.key),
        // The requested lifetime, not an extended one: the kubelet refreshes by this.
        expirationTimestamp: rfc3339(nowMs + expirationSeconds * 1000),
      },
    };
  }

  /** The object a token is bound to, checked as token.go does: it exists, and has the uid given. */
  private async boundObjects(
    namespace: string,
    saName: string,
    ref: BoundObjectReference,
  ): Promise<BoundObjects> {
    const apiVersion = ref.apiVersion ?? '';
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
    const refName = ref.name ?? '';
    const get = (plural: string, ns: string) => this.objects.get(this.type(plural), ns, refName);
    let found: StoredObject;
    let bound: BoundObjects;
    if (group === '' && ref.kind === 'Pod') {
      found = await get('pods', namespace);
      const spec = (found.spec ?? {}) as { serviceAccountName?: string; nodeName?: string };
      if (spec.serviceAccountName !== saName)
        throw StatusError.badRequest(
          `cannot bind token for serviceaccount ${JSON.stringify(saName)} to pod running with different serviceaccount name.`,
        );
      // The node the pod runs on goes into the claim too (ServiceAccountTokenPodNodeInfo), when it can be read.
      const node = spec.nodeName
        ? await this.objects.get(this.type('nodes'), '', spec.nodeName).catch(() => undefined)
        : undefined;
      bound = { pod: refOf(found), ...(node ? { node: refOf(node) } : {}) };
    } else if (group === '' && ref.kind === 'Node') {
      found = await get('nodes', '');
      bound = { node: refOf(found) };
    } else if (group === '' && ref.kind === 'Secret') {
      found = await get('secrets', namespace);
      bound = { secret: refOf(found) };
    } else {
      throw StatusError.badRequest(
        `cannot bind token to object of type ${group}/${version}, Kind=${ref.kind ?? ''}`,
      );
    }
    const uid = String(found.metadata.uid);
    if (ref.uid && ref.uid !== uid)
      throw StatusError.conflict(
        { resource: ref.kind ?? '', name: refName },
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    return bound;
  }

  private type(plural: string) {
    return this.registry.get('', 'v1', plural);
  }
}

function refOf(o: StoredObject): ObjectRef {
  return { name: String(o.metadata.name), uid: String(o.metadata.uid) };
}

function invalid(name: string, field: string, value: unknown, why: string): StatusError {
  const cause: StatusCause = {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${typeof value === 'string' ? JSON.stringify(value) : String(value)}: ${why}`,
    field,
  };
  return StatusError.invalid({ ...TOKEN_REQUEST, name }, [cause]);
}

/** RFC 3339 to the second, as metav1.Time renders. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
