import type { BenchChannel, Reply } from './channel.js';
import { request } from './http.js';

/** What the user types, step by step; the number and the code are filled in per flow. */
export const STEPS = ['退订视频彩铃', '<number>', '<code>', '确认'] as const;

export interface FlowRun {
  /** Target: the bot (full checks) or the echo bot (same requests, no dialog to check). */
  kind: 'bot' | 'echo';
  botUrl: string;
  channel: BenchChannel;
  /** Concurrent conversations. */
  conversations: number;
  /** Successive cancellations per concurrent conversation. */
  rounds: number;
  /** The subscriber number of worker w in round r. */
  numberOf: (worker: number, round: number) => string;
  /** Conversation id prefix (unique per run). */
  label: string;
  /** For the echo bot: replies to send per step (the bot's turn shape). */
  repliesPerStep?: readonly number[];
  /** Stop after the first `stopAfterStep` steps (a conversation left mid-dialog). Default: the whole flow. */
  stopAfterStep?: number;
}

export interface FlowResult {
  turns: number;
  flows: number;
  failures: string[];
  elapsedMs: number;
  /** Per turn: from sending the POST until the last reply of the turn reached the channel, ms. */
  latencies: number[];
  /** The same, per step. */
  latenciesPerStep: number[][];
  /** Per step: reply counts seen. */
  repliesPerStep: number[][];
}

let activitySeq = 0;

/**
 * Drives `conversations` concurrent conversations, each through `rounds` whole cancellations over
 * real HTTP, as Bot Framework Emulator would: POST /api/messages, replies POSTed back to the channel.
 */
export async function runFlows(run: FlowRun): Promise<FlowResult> {
  const result: FlowResult = { turns: 0, flows: 0, failures: [], elapsedMs: 0, latencies: [], latenciesPerStep: STEPS.map(() => []), repliesPerStep: STEPS.map(() => []) };
  const lastStep = run.stopAfterStep ?? STEPS.length;

  async function turn(conversationId: string, step: number, text: string): Promise<Reply[]> {
    const id = `a${++activitySeq}`;
    const replies = run.repliesPerStep?.[step];
    const body = JSON.stringify({
      type: 'message', id, text, locale: 'zh-CN', channelId: 'emulator', serviceUrl: run.channel.url,
      conversation: { id: conversationId },
      from: { id: `user-${conversationId}`, name: 'User', role: 'user' },
      recipient: { id: 'bot-1', name: 'Bot', role: 'bot' },
      timestamp: new Date().toISOString(),
      ...(replies ? { channelData: { bench: { replies } } } : {}),
    });
    const t0 = performance.now();
    const res = await request(`${run.botUrl}/api/messages`, { method: 'POST', body });
    const answered = performance.now();
    const got = run.channel.take(id);
    if (res.status !== 200) throw new Error(`step ${step + 1}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    if (got.length === 0) throw new Error(`step ${step + 1}: no reply reached the channel`);
    let last = 0;
    for (const r of got) last = Math.max(last, r.at);
    result.latencies.push((last || answered) - t0);
    result.latenciesPerStep[step]!.push((last || answered) - t0);
    result.turns++;
    result.repliesPerStep[step]!.push(got.length);
    return got;
  }

  async function code(msisdn: string): Promise<string> {
    const res = await request(`${run.botUrl}/dev/sms?msisdn=${msisdn}`, { method: 'GET' });
    const text = (JSON.parse(res.body) as { messages?: { text: string }[] }).messages?.[0]?.text ?? '';
    const found = /\d{6}/.exec(text)?.[0];
    if (!found) throw new Error(`no code in the SMS outbox for the number (HTTP ${res.status})`);
    return found;
  }

  async function flow(worker: number, round: number): Promise<void> {
    const conversationId = `${run.label}-w${worker}-r${round}`;
    const msisdn = run.numberOf(worker, round);
    const stateOf = (replies: Reply[]) => replies[replies.length - 1]?.state;
    await turn(conversationId, 0, STEPS[0]);
    if (lastStep < 2) return;
    const asked = await turn(conversationId, 1, msisdn);
    if (run.kind === 'bot' && stateOf(asked) !== 'session.awaitingCode') {
      throw new Error(`after the number: state ${stateOf(asked)}: ${asked.map((r) => r.text).join(' / ')}`);
    }
    const smsCode = await code(msisdn);
    if (lastStep < 3) return;
    const warned = await turn(conversationId, 2, smsCode);
    if (run.kind === 'bot' && stateOf(warned) !== 'session.awaitingConfirmation') {
      throw new Error(`after the code: state ${stateOf(warned)}: ${warned.map((r) => r.text).join(' / ')}`);
    }
    if (lastStep < 4) return;
    const receipt = await turn(conversationId, 3, STEPS[3]);
    if (run.kind === 'bot' && !/TD\d{14}/.test(receipt.map((r) => r.text).join('\n'))) {
      throw new Error(`no ticket in the receipt: ${receipt.map((r) => r.text).join(' / ')}`);
    }
  }

  const t0 = performance.now();
  await Promise.all(Array.from({ length: run.conversations }, async (_, worker) => {
    for (let round = 0; round < run.rounds; round++) {
      try {
        await flow(worker, round);
        result.flows++;
      } catch (err) {
        result.failures.push(`${run.label} conversation ${worker} round ${round}: ${(err as Error).message}`);
      }
    }
  }));
  result.elapsedMs = performance.now() - t0;
  return result;
}
