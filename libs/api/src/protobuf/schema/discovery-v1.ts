import { type SchemaPackage } from './package.js';

/** k8s.io.api.discovery.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const discoveryV1: SchemaPackage = {
  name: 'k8s.io.api.discovery.v1',
  messages: {
    EndpointSlice: `
      1 metadata meta.ObjectMeta
      4 addressType string always
      2 endpoints []Endpoint always
      3 ports []EndpointPort always
    `,
    Endpoint: `
      1 addresses []string always
      2 conditions EndpointConditions
      3 hostname *string
      4 targetRef *core.ObjectReference
      5 deprecatedTopology map<string,string>
      6 nodeName *string
      7 zone *string
      8 hints *EndpointHints
    `,
    EndpointConditions: `
      1 ready *bool
      2 serving *bool
      3 terminating *bool
    `,
    EndpointHints: `
      1 forZones []ForZone
      2 forNodes []ForNode
    `,
    ForZone: `
      1 name string always
    `,
    ForNode: `
      1 name string always
    `,
    EndpointPort: `
      1 name *string
      2 protocol *string
      3 port *int32
      4 appProtocol *string
    `,
  },
};
