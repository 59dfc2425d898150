export { DeliverMessage } from './deliver-message';
export { Reconcile } from './reconcile';
export { DeliverOperationalEvent } from './operational';
export { ReplayDeliveries } from './replay';
export { PruneExpiredPayloads } from './retention';
export { DeleteResources } from './deletion';
