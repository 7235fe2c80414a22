import type { Activity } from 'botbuilder';
import { describe, expect, it } from 'vitest';
import { CachingBotFrameworkAuthentication } from '../../src/channels/connector-cache.js';

/** A message as the Emulator posts it (no credentials configured: authentication is off). */
const activity = { type: 'message', channelId: 'emulator', serviceUrl: 'http://127.0.0.1:9/', conversation: { id: 'c1' }, from: { id: 'u1' }, recipient: { id: 'b1' } } as Activity;

describe('CachingBotFrameworkAuthentication', () => {
  it('hands every turn to the same service URL one connector client, and another URL its own', async () => {
    const auth = new CachingBotFrameworkAuthentication({});
    const first = await auth.authenticateRequest(activity, '');
    const second = await auth.authenticateRequest(activity, '');
    const a = await first.connectorFactory!.create('http://127.0.0.1:9/');
    const b = await second.connectorFactory!.create('http://127.0.0.1:9/');
    const other = await second.connectorFactory!.create('http://127.0.0.1:10/');
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    // Proactive messages (createConnectorFactory) share the clients of incoming turns.
    const proactive = await auth.createConnectorFactory(first.claimsIdentity).create('http://127.0.0.1:9/');
    expect(proactive).toBe(a);
  });

  it('hands every turn of one app the same user token client', async () => {
    const auth = new CachingBotFrameworkAuthentication({});
    const { claimsIdentity } = await auth.authenticateRequest(activity, '');
    const a = await auth.createUserTokenClient(claimsIdentity);
    const b = await auth.createUserTokenClient(claimsIdentity);
    expect(b).toBe(a);
  });
});
