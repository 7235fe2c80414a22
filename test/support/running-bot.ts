import type { App } from '../../src/app.js';
import type { Env } from '../../src/config.js';
import { tempDataDir, testApp } from './app.js';
import { EmulatorClient, FakeChannel, type ReceivedActivity } from './fake-channel.js';

/** The real server on a free port with no app id, plus a fake channel for its replies: what the Emulator sees. */
export interface RunningBot {
  app: App;
  url: string;
  channel: FakeChannel;
  dataDir: string;
  /** zh-CN text of a locale key, for expected replies. */
  t(key: string, params?: Record<string, string | number>): string;
  /** A new Emulator-style conversation. */
  client(): EmulatorClient;
  stop(): Promise<void>;
}

export async function startBot(env: Env = {}): Promise<RunningBot> {
  const data = tempDataDir();
  const channel = new FakeChannel();
  await channel.start();
  const app = await testApp(data.dir, env);
  const url = `http://127.0.0.1:${await app.start()}`;
  return {
    app, url, channel, dataDir: data.dir,
    t: (key, params) => app.i18n.t(key, params, 'zh-CN'),
    client: () => new EmulatorClient(url, channel),
    async stop() {
      await app.stop();
      await channel.stop();
      data.cleanup();
    },
  };
}

/** The texts of some replies, one per line. */
export const textOf = (replies: ReceivedActivity[]): string => replies.map((r) => r.text ?? '').join('\n');
