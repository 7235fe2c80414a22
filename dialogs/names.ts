import type { DataName } from './unsubscribe.types.js';

/**
 * Names from data as message parameters: the machine says which service, account or channel it
 * means, and the runtime shows it in the reply's locale.
 */

/** A subscription's service. */
export const serviceName = (s: { serviceId: string; name: string }): DataName => ({ kind: 'service', id: s.serviceId, name: s.name });

/** The service of a filed request or refund claim (snapshots from before names were localised lack the id). */
export const requestName = (r: { serviceId?: string; serviceName: string }): DataName =>
  (r.serviceId ? { kind: 'service', id: r.serviceId, name: r.serviceName } : { kind: 'service', name: r.serviceName });

export const serviceNames = (list: { serviceId: string; name: string }[]): DataName[] => list.map(serviceName);

export const accountNames = (accounts: string[]): DataName[] => accounts.map((name) => ({ kind: 'account', name }));

/** How a subscription was ordered (短信, APP…); empty when the back end did not say. */
export const channelName = (channel: string | undefined): DataName | string => (channel ? { kind: 'channel', name: channel } : '');
