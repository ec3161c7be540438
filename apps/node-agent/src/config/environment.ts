import { type Container, type Pod } from '../api-types.js';
import { expand, mappingFor } from './expansion.js';
import { type PodAddresses, podFieldValue } from './field-path.js';
import { type ConfigMap, type Secret } from './kube-types.js';
import { type ObjectSource } from './object-source.js';
import { type NodeAllocatable, resourceFieldValue } from './resources.js';
import { type KubernetesEndpoint, serviceEnvVarMap } from './service-env.js';

export interface EnvironmentInputs {
  objects: ObjectSource;
  addresses: PodAddresses;
  allocatable: NodeAllocatable;
  kubernetesEndpoint?: KubernetesEndpoint;
  /** A pod event the kubelet would record (skipped envFrom keys). */
  warn?: (reason: string, message: string) => void;
}

/** apimachinery IsEnvVarName (C identifiers plus `-` and `.`, not starting with a digit). */
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * A container's environment, as kubelet_pods.go makeEnvironmentVariables builds it: envFrom
 * sources first (later ones override), then `env` in order — each literal `value` expanded
 * against what is defined so far and the Service variables, each `valueFrom` resolved — and
 * last the Service variables nothing else defined. Errors carry upstream's messages.
 */
export async function makeEnvironment(
  pod: Pod,
  container: Container,
  inputs: EnvironmentInputs,
): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const serviceEnv = await serviceVariables(pod, inputs);

  const configMaps = new Map<string, ConfigMap | undefined>();
  const secrets = new Map<string, Secret | undefined>();
  const configMap = async (name: string) => {
    if (!configMaps.has(name)) configMaps.set(name, await inputs.objects.configMap(namespace, name));
    return configMaps.get(name);
  };
  const secret = async (name: string) => {
    if (!secrets.has(name)) secrets.set(name, await inputs.objects.secret(namespace, name));
    return secrets.get(name);
  };

  // No prototype: a variable may be called `__proto__` or `constructor`.
  const env = Object.create(null) as Record<string, string>;
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let values: Record<string, string>;
    let kind: string;
    let name: string;
    if (from.configMapRef) {
      name = from.configMapRef.name ?? '';
      kind = 'configMap';
      const cm = await configMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new Error(`configmap ${JSON.stringify(name)} not found`);
      }
      values = cm.data ?? {};
    } else if (from.secretRef) {
      name = from.secretRef.name ?? '';
      kind = 'secret';
      const s = await secret(name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new Error(`secret ${JSON.stringify(name)} not found`);
      }
      values = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decode(v)]));
    } else continue;
    const invalid: string[] = [];
    for (const [key, value] of Object.entries(values)) {
      const k = prefix + key;
      if (!ENV_VAR_NAME.test(k)) invalid.push(k);
      else env[k] = value;
    }
    if (invalid.length > 0)
      inputs.warn?.(
        'InvalidEnvironmentVariableNames',
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${kind} ${namespace}/${name} were skipped since they are considered invalid environment variable names.`,
      );
  }

  const mapping = mappingFor(env, serviceEnv);
  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    if (value !== '') {
      value = expand(value, mapping);
    } else if (e.valueFrom) {
      const from = e.valueFrom;
      if (from.fieldRef) {
        value = podFieldValue(from.fieldRef, pod, inputs.addresses);
      } else if (from.resourceFieldRef) {
        value = resourceFieldValue(from.resourceFieldRef, pod, container, inputs.allocatable);
      } else if (from.configMapKeyRef) {
        const { name = '', key, optional } = from.configMapKeyRef;
        const cm = await configMap(name);
        if (!cm) {
          if (optional) continue;
          throw new Error(`configmap ${JSON.stringify(name)} not found`);
        }
        const found = cm.data?.[key];
        if (found === undefined) {
          if (optional) continue;
          throw new Error(`couldn't find key ${key} in ConfigMap ${namespace}/${name}`);
        }
        value = found;
      } else if (from.secretKeyRef) {
        const { name = '', key, optional } = from.secretKeyRef;
        const s = await secret(name);
        if (!s) {
          if (optional) continue;
          throw new Error(`secret ${JSON.stringify(name)} not found`);
        }
        const found = s.data?.[key];
        if (found === undefined) {
          if (optional) continue;
          throw new Error(`couldn't find key ${key} in Secret ${namespace}/${name}`);
        }
        value = decode(found);
      }
    }
    env[e.name] = value;
  }

  for (const [k, v] of Object.entries(serviceEnv)) if (!(k in env)) env[k] = v;
  return env;
}

async function serviceVariables(pod: Pod, inputs: EnvironmentInputs): Promise<Record<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks ?? true;
  try {
    const inDefault = await inputs.objects.services('default');
    const inNamespace = links && namespace !== 'default' ? await inputs.objects.services(namespace) : [];
    return serviceEnvVarMap(namespace, links, { inNamespace, inDefault }, inputs.kubernetesEndpoint);
  } catch (e) {
    throw new Error('failed to list services when setting up env vars', { cause: e });
  }
}

/** A Secret value as the process sees it: its bytes as (UTF-8) text. */
function decode(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}
