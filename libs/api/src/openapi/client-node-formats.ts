import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageDir } from './model-packages.js';

/**
 * The OpenAPI `format` of each property, from @kubernetes/client-node's generated models: their
 * `attributeTypeMap` keeps upstream's `int32`/`int64`/`double`/`byte`, which kubernetes-models'
 * declarations lose (every number is `number` there). Read as text and parsed as the JSON it is,
 * so the ~850 model modules never load.
 */
export class ClientNodeFormats {
  private readonly dir = join(packageDir('@kubernetes/client-node'), 'dist', 'gen', 'models');
  private readonly cache = new Map<string, Map<string, string> | undefined>();

  /** Property → format of a definition (empty formats left out); undefined when client-node has no model of it. */
  of(definition: string): Map<string, string> | undefined {
    if (this.cache.has(definition)) return this.cache.get(definition);
    const found = candidates(definition)
      .map((c) => this.read(c))
      .find((m) => m !== undefined);
    this.cache.set(definition, found);
    return found;
  }

  private read(className: string): Map<string, string> | undefined {
    const path = join(this.dir, `${className}.js`);
    if (!existsSync(path)) return undefined;
    const text = readFileSync(path, 'utf8');
    const start = text.indexOf(`${className}.attributeTypeMap = [`);
    if (start < 0) return undefined;
    const open = text.indexOf('[', start);
    const close = text.indexOf('\n];', open);
    const attributes = JSON.parse(text.slice(open, close + 2)) as { baseName: string; format: string }[];
    return new Map(attributes.filter((a) => a.format).map((a) => [a.baseName, a.format]));
  }
}

/**
 * client-node's class names for a definition: `V1PodSpec`, or with the Go package first
 * (`CoreV1Event`, `EventsV1Event`) where two groups define the same name.
 */
function candidates(definition: string): string[] {
  const parts = definition.split('.');
  const [version, kind] = parts.slice(-2);
  const cap = (s: string) => `${s[0].toUpperCase()}${s.slice(1)}`;
  const plain = `${cap(version)}${kind}`;
  if (!definition.startsWith('io.k8s.api.')) return [plain];
  return [`${cap(parts[3])}${plain}`, plain];
}
