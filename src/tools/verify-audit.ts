import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { verifyAuditLog } from '../store/audit-log.js';

/** `npm run audit:verify [file]`: checks the hash chain of the audit log; exit 1 when broken. */
const file = process.argv[2] ?? join(loadConfig().dataDir, 'audit.jsonl');
if (!existsSync(file)) {
  process.stdout.write(`audit log ${file}: no entries yet\n`);
  process.exit(0);
}
const result = verifyAuditLog(file);
if (result.ok) {
  process.stdout.write(`audit log ${file}: ${result.entries} entries, chain intact\n`);
} else {
  process.stdout.write(`audit log ${file}: BROKEN at line ${result.line}: ${result.problem}\n`);
  process.exitCode = 1;
}
