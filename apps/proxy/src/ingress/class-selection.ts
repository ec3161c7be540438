import { type Ingress, type IngressClass } from './ingress-types.js';

/** networking/v1 AnnotationIsDefaultIngressClass. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The deprecated class annotation (pre-v1 networking.AnnotationIngressClass), still honoured by ingress-nginx. */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The IngressClasses known, by name (an informer's cache: a cluster-scoped object's key is its name). */
export interface ClassLookup {
  get(name: string): IngressClass | undefined;
  list(): readonly IngressClass[];
}

export interface ClassSelection {
  /** IngressClass.spec.controller values that are this controller's (upstream: `k8s.io/ingress-nginx`). */
  controller: string;
  /** ingress-nginx's --watch-ingress-without-class: take Ingresses naming no class at all. */
  watchIngressWithoutClass?: boolean;
}

/**
 * Whether this controller serves the Ingress (ingress-nginx internal/ingress/controller/store
 * IsValid, with the v1 semantics of the DefaultIngressClass admission plugin):
 * - spec.ingressClassName, else the deprecated `kubernetes.io/ingress.class` annotation, names
 *   an IngressClass: ours when that class exists and its spec.controller is ours;
 * - no class at all: ours when one of our IngressClasses is annotated
 *   `ingressclass.kubernetes.io/is-default-class: "true"` (the class admission would have
 *   defaulted it to), or when told to watch Ingresses without a class.
 */
export function handlesIngress(ing: Ingress, classes: ClassLookup, o: ClassSelection): boolean {
  const named = ing.spec?.ingressClassName || ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (named) return classes.get(named)?.spec?.controller === o.controller;
  return !!o.watchIngressWithoutClass || classes.list().some((c) => isDefaultClassOf(c, o.controller));
}

const isDefaultClassOf = (c: IngressClass, controller: string) =>
  c.spec?.controller === controller && c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
