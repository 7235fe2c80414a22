import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_ASSETS_DIR } from '../paths.js';

/** Phrases that leave the human queue or chat, complaint words (data/handoff-phrases.json), deletion and password-change requests (data/privacy-phrases.json). */
export interface HandoffPhrases {
  /** 取消转人工, 结束人工…: stop waiting for, or leave, the agent. */
  leaves(normalized: string): boolean;
  /** 不用转人工, 不要人工了…: the user declines a human (whatever the classifier made of the words 转人工 in it). */
  declinesHuman(normalized: string): boolean;
  /** 投诉, 12300, 工信部…: a complaint that goes to a human. */
  complains(normalized: string): boolean;
  /** 删除我的个人信息, 删除聊天记录…: the user asks to delete what the bot stored about them. */
  asksDeletion(normalized: string): boolean;
  /** 改服务密码, 忘记服务密码…: the user wants a new service password. */
  asksPasswordChange(normalized: string): boolean;
  /** 取消, 不办了, 退出…as the whole message: stop the dialog in progress. */
  stopsDialog(normalized: string): boolean;
  /** 还要等多久, 人呢: a question about the wait for an agent. */
  asksAboutQueue(normalized: string): boolean;
  /** A whole message of thanks (谢谢), asking for a moment (稍等) or saying goodbye (再见): neither an answer nor a miss. */
  courtesy(normalized: string): 'thanks' | 'wait' | 'bye' | null;
}

export function loadHandoffPhrases(file = join(DATA_ASSETS_DIR, 'handoff-phrases.json')): HandoffPhrases {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { leave: string[]; declineHuman: string[]; complaint: string[]; stopDialog: string[]; thanks: string[]; wait: string[]; bye?: string[]; queue?: string[] };
  const stop = new Set(data.stopDialog);
  const thanks = new Set(data.thanks);
  const wait = new Set(data.wait);
  const bye = new Set(data.bye ?? []);
  const whole = (text: string) => text.toLowerCase().replace(/[\s，。！？,.!?~～…、]+/g, '');
  const compact = (s: string) => s.replace(/\s+/g, '');
  const privacy = JSON.parse(readFileSync(join(DATA_ASSETS_DIR, 'privacy-phrases.json'), 'utf8')) as { deleteData: string[]; changePassword: string[] };
  return {
    asksDeletion: (text) => privacy.deleteData.some((p) => compact(text).includes(p)),
    asksPasswordChange: (text) => privacy.changePassword.some((p) => compact(text).includes(p)),
    leaves: (text) => data.leave.some((p) => compact(text).includes(p)),
    declinesHuman: (text) => data.declineHuman.some((p) => compact(text).includes(p)),
    complains: (text) => data.complaint.some((p) => compact(text).includes(p)),
    stopsDialog: (text) => stop.has(whole(text)),
    asksAboutQueue: (text) => (data.queue ?? []).some((p) => compact(text).includes(p)),
    courtesy: (text) => {
      const w = whole(text);
      return thanks.has(w) ? 'thanks' : wait.has(w) ? 'wait' : bye.has(w) ? 'bye' : null;
    },
  };
}
