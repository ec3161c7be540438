import { type SchemaPackage } from './package.js';

/** k8s.io.api.networking.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const networkingV1: SchemaPackage = {
  name: 'k8s.io.api.networking.v1',
  messages: {
    Ingress: `
      1 metadata meta.ObjectMeta
      2 spec IngressSpec
      3 status IngressStatus
    `,
    IngressSpec: `
      4 ingressClassName *string
      1 defaultBackend *IngressBackend
      2 tls []IngressTLS
      3 rules []IngressRule
    `,
    IngressBackend: `
      4 service *IngressServiceBackend
      3 resource *core.TypedLocalObjectReference
    `,
    IngressServiceBackend: `
      1 name string always
      2 port ServiceBackendPort
    `,
    ServiceBackendPort: `
      1 name string
      2 number int32
    `,
    IngressTLS: `
      1 hosts []string
      2 secretName string
    `,
    IngressRule: `
      1 host string
      2 ingressRuleValue IngressRuleValue inline
    `,
    IngressRuleValue: `
      1 http *HTTPIngressRuleValue
    `,
    HTTPIngressRuleValue: `
      1 paths []HTTPIngressPath always
    `,
    HTTPIngressPath: `
      1 path string
      3 pathType *string always
      2 backend IngressBackend always
    `,
    IngressStatus: `
      1 loadBalancer IngressLoadBalancerStatus
    `,
    IngressLoadBalancerStatus: `
      1 ingress []IngressLoadBalancerIngress
    `,
    IngressLoadBalancerIngress: `
      1 ip string
      2 hostname string
      4 ports []IngressPortStatus
    `,
    IngressPortStatus: `
      1 port int32 always
      2 protocol string always
      3 error *string
    `,
    IngressClass: `
      1 metadata meta.ObjectMeta
      2 spec IngressClassSpec
    `,
    IngressClassSpec: `
      1 controller string
      2 parameters *IngressClassParametersReference
    `,
    IngressClassParametersReference: `
      1 apiGroup *string
      2 kind string always
      3 name string always
      4 scope *string always
      5 namespace *string
    `,
    IPAddress: `
      1 metadata meta.ObjectMeta
      2 spec IPAddressSpec
    `,
    IPAddressSpec: `
      1 parentRef *ParentReference
    `,
    ParentReference: `
      1 group string
      2 resource string
      3 namespace string
      4 name string
    `,
    ServiceCIDR: `
      1 metadata meta.ObjectMeta
      2 spec ServiceCIDRSpec
      3 status ServiceCIDRStatus
    `,
    ServiceCIDRSpec: `
      1 cidrs []string
    `,
    ServiceCIDRStatus: `
      1 conditions []meta.Condition
    `,
  },
};
