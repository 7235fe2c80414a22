import { execFileSync } from 'node:child_process';
import { describe, it, expect } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

describe('npm run nlu -- --jsonl', () => {
  it('writes exactly one JSON line per input line and nothing else on stdout', () => {
    const input = ['我想退订视频彩铃', '开通视频彩铃', '', '转人工', '宽带怎么退'].join('\n') + '\n';
    const out = execFileSync('npx', ['tsx', 'src/nlu/cli.ts', '--jsonl'], { cwd: PROJECT_ROOT, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(Object.keys(lines[0]!)).toEqual(['text', 'intent', 'confidence', 'target', 'service']);
    expect(lines[0]).toMatchObject({ intent: 'unsubscribe', target: 'vas', service: 'vas-video-ringback' });
    expect(lines[1]).toMatchObject({ target: null });
    expect(lines[1]!.intent).not.toBe('unsubscribe');
    expect(lines[3]).toMatchObject({ intent: 'human_agent', target: null, service: null });
    expect(lines[4]).toMatchObject({ intent: 'unsubscribe', target: 'broadband', service: null });
  }, 20_000);
});
