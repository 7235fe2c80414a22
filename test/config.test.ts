import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const base = { DATA_DIR: '/tmp/tuiding-config-test' };

describe('loadConfig: the proxy for replies', () => {
  it('has none when no proxy variable is set', () => {
    expect(loadConfig({ ...base }, { dotenv: false }).proxy).toBeUndefined();
  });

  it('reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY, the lower-case names first as curl does', () => {
    const config = loadConfig({ ...base, HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', HTTP_PROXY: 'http://plain:3128', NO_PROXY: 'localhost,.internal' } as never, { dotenv: false });
    expect(config.proxy).toEqual({ https: 'http://lower:3128', http: 'http://plain:3128', noProxy: 'localhost,.internal' });
  });

  it('ignores NO_PROXY alone, and blank values', () => {
    expect(loadConfig({ ...base, NO_PROXY: 'localhost', HTTP_PROXY: '  ' } as never, { dotenv: false }).proxy).toBeUndefined();
  });
});
