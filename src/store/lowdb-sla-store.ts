import { join } from 'node:path';
import { JsonFileDb } from './json-file-db.js';

import type { SlaStore } from './stores.js';

interface SlaData {
  escalated: Record<string, { at: string; newDueAt: string }>;
}

/** `sla.json` under DATA_DIR: one small row per breached request. */
export class LowdbSlaStore implements SlaStore {
  private constructor(private readonly db: JsonFileDb<SlaData>) {}

  static async open(dataDir: string): Promise<LowdbSlaStore> {
    return new LowdbSlaStore(await JsonFileDb.open<SlaData>(join(dataDir, 'sla.json'), { escalated: {} }));
  }

  async wasEscalated(ticket: string): Promise<boolean> {
    return this.db.data.escalated[ticket] !== undefined;
  }

  async markEscalated(ticket: string, at: string, newDueAt: string): Promise<void> {
    await this.db.update((d) => { d.escalated[ticket] = { at, newDueAt }; });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
