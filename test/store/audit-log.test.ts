import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileAuditLog, verifyAuditLog } from '../../src/store/audit-log.js';
import { tempDataDir } from '../support/app.js';

let data: ReturnType<typeof tempDataDir>;
let file: string;
beforeEach(() => { data = tempDataDir(); file = join(data.dir, 'audit.jsonl'); });
afterEach(() => data.cleanup());

async function writeThree(): Promise<void> {
  const log = new FileAuditLog(file);
  await log.append({ type: 'request.filed', ticket: 'TD1', msisdn: '13800138000' });
  await log.append({ type: 'request.status', ticket: 'TD1', status: 'processing' });
  await log.append({ type: 'agent.claim', agentId: 'alice', ticketId: 'HO1' });
  await log.close();
}

describe('the audit log', () => {
  it('chains every entry to the previous one and masks personal data', async () => {
    await writeThree();
    expect(verifyAuditLog(file)).toMatchObject({ ok: true, entries: 3 });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('138****8000');
    expect(text).not.toContain('13800138000');
  });

  it('continues the chain after reopening', async () => {
    await writeThree();
    const again = new FileAuditLog(file);
    const entry = await again.append({ type: 'request.status', ticket: 'TD1', status: 'completed' });
    await again.close();
    expect(entry.seq).toBe(4);
    expect(verifyAuditLog(file)).toMatchObject({ ok: true, entries: 4 });
  });

  it('reports the first line that was changed, removed or reordered', async () => {
    await writeThree();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, [lines[0], lines[1]!.replace('processing', 'completed'), lines[2]].join('\n') + '\n');
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, line: 2 });
    writeFileSync(file, [lines[0], lines[2]].join('\n') + '\n');
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, line: 2 });
    writeFileSync(file, [lines[1], lines[0], lines[2]].join('\n') + '\n');
    expect(verifyAuditLog(file)).toMatchObject({ ok: false, line: 1 });
  });

  it('refuses to append to a broken log rather than hiding the break', async () => {
    await writeThree();
    writeFileSync(file, readFileSync(file, 'utf8').replace('alice', 'mallory'));
    expect(() => new FileAuditLog(file)).toThrow(/audit log .* broken at line 3/);
  });
});
