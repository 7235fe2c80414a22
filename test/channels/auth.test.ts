import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { tempDataDir, testApp } from '../support/app.js';

// With Bot Framework credentials set, /api/messages accepts only requests carrying a valid token.
let app: App;
let url: string;
let data: ReturnType<typeof tempDataDir>;

beforeAll(async () => {
  data = tempDataDir();
  app = await testApp(data.dir, { MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-a-real-secret' });
  url = `http://127.0.0.1:${await app.start()}/api/messages`;
});

afterAll(async () => {
  await app.stop();
  data.cleanup();
});

const activity = {
  type: 'message', id: 'a1', text: '退订视频彩铃', channelId: 'emulator', serviceUrl: 'http://127.0.0.1:9/',
  conversation: { id: 'c1' }, from: { id: 'u1' }, recipient: { id: 'bot' },
};

describe('authentication with an app id set', () => {
  it('answers 401 without an Authorization header, with a bogus token, and for the Emulator channel too', async () => {
    const none = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) });
    expect(none.status).toBe(401);
    const bogus = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' }, body: JSON.stringify(activity) });
    expect(bogus.status).toBe(401);
    expect(await app.store.getConversation('c1')).toBeUndefined();
  });
});
