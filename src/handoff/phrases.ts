import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_ASSETS_DIR } from '../paths.js';

/** Phrases that leave the human queue or chat, and complaint words (data/handoff-phrases.json). */
export interface HandoffPhrases {
  /** 取消转人工, 结束人工…: stop waiting for, or leave, the agent. */
  leaves(normalized: string): boolean;
  /** 投诉, 12300, 工信部…: a complaint that goes to a human. */
  complains(normalized: string): boolean;
}

export function loadHandoffPhrases(file = join(DATA_ASSETS_DIR, 'handoff-phrases.json')): HandoffPhrases {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { leave: string[]; complaint: string[] };
  const compact = (s: string) => s.replace(/\s+/g, '');
  return {
    leaves: (text) => data.leave.some((p) => compact(text).includes(p)),
    complains: (text) => data.complaint.some((p) => compact(text).includes(p)),
  };
}
