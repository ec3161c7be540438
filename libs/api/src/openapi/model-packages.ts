import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type DtsFile, parseDts } from './dts-model.js';

/**
 * Where the generated models live on disk, found the way Node resolves a bare import: the
 * nearest `node_modules/<name>` above this module (or the working directory). Read as files,
 * not imported: their `.d.ts` carry the descriptions, and nothing of them needs to run.
 */
export function packageDir(name: string): string {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  throw new Error(`the package ${name} is not installed`);
}

const MODELS = 'kubernetes-models';
const APIMACHINERY = '@kubernetes-models/apimachinery';

/** One model file: its definition name (`io.k8s.api.core.v1.Pod`), its path, and what it declares. */
export interface ModelFile extends DtsFile {
  definition: string;
  path: string;
}

/** Reads model files by definition name or by import, each once. */
export class ModelPackages {
  private readonly models = packageDir(MODELS);
  private readonly apimachinery = packageDir(APIMACHINERY);
  private readonly files = new Map<string, ModelFile>();

  /** The file of a built-in kind (`''`/`apps`…, `v1`, `Pod`), or undefined when the package has none. */
  kindFile(group: string, version: string, kind: string): ModelFile | undefined {
    const path = join(this.models, ...(group ? [group] : []), version, `${kind}.d.ts`);
    return existsSync(path) ? this.read(path) : undefined;
  }

  /** The file of an apimachinery definition (`apis/meta/v1/Status`). */
  apimachineryFile(subpath: string): ModelFile {
    return this.read(join(this.apimachinery, `${subpath}.d.ts`));
  }

  /** The file an `import … from "<specifier>"` in `from` names. */
  imported(from: ModelFile, specifier: string): ModelFile {
    let path: string;
    if (specifier.startsWith('.')) path = resolve(dirname(from.path), specifier.replace(/\.js$/, '.d.ts'));
    else if (specifier.startsWith(`${APIMACHINERY}/`))
      path = join(this.apimachinery, `${specifier.slice(APIMACHINERY.length + 1)}.d.ts`);
    else if (specifier.startsWith(`${MODELS}/`))
      path = join(this.models, `${specifier.slice(MODELS.length + 1)}.d.ts`);
    else throw new Error(`${from.path}: cannot follow the import of ${specifier}`);
    return this.read(path);
  }

  private read(path: string): ModelFile {
    const known = this.files.get(path);
    if (known) return known;
    const parsed = parseDts(readFileSync(path, 'utf8'), path);
    const file = { ...parsed, path, definition: this.definitionOf(path, parsed.fullName) };
    this.files.set(path, file);
    return file;
  }

  /**
   * Upstream's definition name. Apimachinery files sit at upstream's package path
   * (`apis/meta/v1/ObjectMeta` → `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`); API files at
   * `<group>/<version>/<Kind>`, whose Go package (`rbac` for rbac.authorization.k8s.io) is what
   * the generator's full name has between `IIoK8sApi` and the version.
   */
  private definitionOf(path: string, fullName: string): string {
    const inApimachinery = relative(this.apimachinery, path);
    if (!inApimachinery.startsWith('..'))
      return `io.k8s.apimachinery.pkg.${inApimachinery
        .replace(/\.d\.ts$/, '')
        .split(sep)
        .join('.')}`;
    const parts = relative(this.models, path)
      .replace(/\.d\.ts$/, '')
      .split(sep);
    const [version, kind] = parts.slice(-2);
    const suffix = `${version[0].toUpperCase()}${version.slice(1)}${kind}`;
    if (!fullName.startsWith('IIoK8sApi') || !fullName.endsWith(suffix))
      throw new Error(`${path}: ${fullName} is not an io.k8s.api definition`);
    const pkg = fullName.slice('IIoK8sApi'.length, -suffix.length).toLowerCase();
    return `io.k8s.api.${pkg}.${version}.${kind}`;
  }
}
