import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDataDir, testApp } from '../support/app.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => { data = tempDataDir(); });
afterEach(() => data.cleanup());

describe('the data folder', () => {
  it('starts empty the first time, and refuses to start when a file of an earlier run is missing', async () => {
    const first = await testApp(data.dir);
    await first.start();
    await first.runner.handleMessage({ conversationId: 'c', text: '退订彩铃', reference: {} });
    await first.stop();
    expect(existsSync(join(data.dir, 'tuiding-data.json'))).toBe(true);

    const again = await testApp(data.dir);
    await again.stop();

    rmSync(join(data.dir, 'operator.json'));
    await expect(testApp(data.dir)).rejects.toThrow(/missing .*operator\.json/);
    // Nothing was recreated behind the user's back.
    expect(existsSync(join(data.dir, 'operator.json'))).toBe(false);
  });
});
