export {
  DEFAULT_INGRESS_CONTROLLER,
  type IngressControllerOptions,
  type RunningIngressController,
  startIngressController,
} from './ingress-controller.js';
