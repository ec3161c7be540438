import { type SchemaPackage } from './package.js';

/** k8s.io.api.events.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const eventsV1: SchemaPackage = {
  name: 'k8s.io.api.events.v1',
  messages: {
    Event: `
      1 metadata meta.ObjectMeta always
      2 eventTime MicroTime always
      3 series *EventSeries
      4 reportingController string
      5 reportingInstance string
      6 action string
      7 reason string
      8 regarding core.ObjectReference
      9 related *core.ObjectReference
      10 note string
      11 type string
      12 deprecatedSource core.EventSource
      13 deprecatedFirstTimestamp Time
      14 deprecatedLastTimestamp Time
      15 deprecatedCount int32
    `,
    EventSeries: `
      1 count int32 always
      2 lastObservedTime MicroTime always
    `,
  },
};
