import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { tempDataDir, testApp } from '../support/app.js';

// With a real operator API and SMS gateway configured, the developer endpoints do not exist.
let app: App;
let url: string;
let data: ReturnType<typeof tempDataDir>;

beforeAll(async () => {
  data = tempDataDir();
  app = await testApp(data.dir, { BACKEND: 'http', OPERATOR_API_URL: 'http://127.0.0.1:9', SMS: 'http', SMS_API_URL: 'http://127.0.0.1:9/sms' });
  url = `http://127.0.0.1:${await app.start()}`;
});

afterAll(async () => {
  await app.stop();
  data.cleanup();
});

describe('developer endpoints', () => {
  it('are absent unless the embedded back end and SMS gateway are in use', async () => {
    expect((await fetch(`${url}/dev/sms?msisdn=13800138000`)).status).toBe(404);
    expect((await fetch(`${url}/dev/subscribers`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
