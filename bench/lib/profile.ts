import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** CPU time in the window, ms (idle excluded). */
  busyMs: number;
  /** Share of busy time per area, by the file of the function the sample fell in (self time). */
  areas: { area: string; ms: number; share: number }[];
  /** Functions with the most self time. */
  top: { fn: string; ms: number; share: number }[];
}

/** Which part of the system a function belongs to, judged by its file. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName === '(garbage collector)') return 'gc';
    if (frame.functionName === '(idle)') return 'idle';
    if (frame.functionName === '(program)' || frame.functionName === '(root)') return 'v8/native (program)';
    return 'native calls (fs, crypto, buffers)';
  }
  if (/\/dist\/src\/nlu\/|@node-rs\/jieba|opencc-js|\/natural\/|fastest-levenshtein/.test(url)) return 'nlu';
  if (/\/dist\/dialogs\/|\/xstate\//.test(url)) return 'dialog (xstate)';
  if (url.includes('/dist/src/store/')) return 'store';
  if (url.includes('/dist/src/adapters/')) return 'adapters (embedded back end, sms)';
  if (url.includes('/dist/src/runtime/')) return 'runtime';
  if (url.includes('/dist/src/handoff/')) return 'handoff';
  if (url.includes('/dist/src/channels/')) return 'channels';
  if (/\/dist\/src\/(log|privacy)|\/pino/.test(url)) return 'logging';
  if (/\/lowdb\/|\/steno\//.test(url)) return 'store';
  if (/botbuilder|botframework|@azure|node-fetch|axios|jsonwebtoken|jose/.test(url)) return 'botbuilder';
  if (/restify|find-my-way|formidable|send\/|csv|qs\//.test(url)) return 'restify';
  if (/^node:(internal\/)?(fs|streams?)/.test(url)) return 'node fs/streams';
  if (/^node:(_http|http|https|net|internal\/http|internal\/net|internal\/stream_base)/.test(url)) return 'node http/net';
  if (url.startsWith('node:')) return 'node other';
  if (url.includes('/dist/src/')) return 'app other';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  return pkg ? `deps: ${pkg}` : 'other';
}

/**
 * Summarises the .cpuprofile of one thread in `dir` (node writes one per thread, named
 * CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile; 0 is the main thread) over the window
 * [fromUs, toUs] of the monotonic clock (the clock of process.hrtime, which V8 profiles use too).
 */
export function summariseProfile(dir: string, fromUs: number, toUs: number, threadId = 0): ProfileSummary | undefined {
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === String(threadId)).sort().pop();
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areaMs = new Map<string, number>();
  const fnMs = new Map<string, number>();
  let t = profile.startTime;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const node = byId.get(profile.samples[i]!)!;
    const area = areaOf(node.callFrame);
    if (area === 'idle') continue;
    busy += dt;
    areaMs.set(area, (areaMs.get(area) ?? 0) + dt);
    const where = node.callFrame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${where}${where ? `:${node.callFrame.lineNumber + 1}` : ''}`;
    fnMs.set(fn, (fnMs.get(fn) ?? 0) + dt);
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const share = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 10;
  return {
    busyMs: ms(busy),
    areas: [...areaMs].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: ms(us), share: share(us) })),
    top: [...fnMs].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([fn, us]) => ({ fn, ms: ms(us), share: share(us) })),
  };
}
