import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

// Keeps the dependency rules of STYLE.md true without anyone remembering them.
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
}

const rel = (f: string) => relative(PROJECT_ROOT, f);
const all = [...tsFiles(join(PROJECT_ROOT, 'src')), ...tsFiles(join(PROJECT_ROOT, 'dialogs'))];

describe('dependency rules', () => {
  it('dialogs import only xstate and dialogs', () => {
    for (const file of all.filter((f) => rel(f).startsWith('dialogs/'))) {
      for (const spec of importsOf(file)) {
        expect(spec === 'xstate' || (spec.startsWith('./') && !spec.includes('..')), `${rel(file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('only src/channels imports botbuilder or restify', () => {
    for (const file of all.filter((f) => !rel(f).startsWith('src/channels/'))) {
      for (const spec of importsOf(file)) {
        expect(/^(botbuilder|restify)/.test(spec), `${rel(file)} imports ${spec}`).toBe(false);
      }
    }
  });

  it('nlu, adapters and store never import dialogs', () => {
    for (const file of all.filter((f) => /^src\/(nlu|adapters|store)\//.test(rel(f)))) {
      for (const spec of importsOf(file)) expect(spec.includes('dialogs/'), `${rel(file)} imports ${spec}`).toBe(false);
    }
  });

  it('only main.ts and app.ts construct concrete adapters', () => {
    for (const file of all.filter((f) => !/^src\/(main|app)\.ts$/.test(rel(f)) && !rel(f).startsWith('src/adapters/'))) {
      const source = readFileSync(file, 'utf8');
      expect(/new (Embedded|Http)(OperatorBackend|SmsGateway)\b/.test(source), rel(file)).toBe(false);
    }
  });

  it('only config.ts reads process.env', () => {
    for (const file of all.filter((f) => rel(f) !== 'src/config.ts')) {
      expect(readFileSync(file, 'utf8').includes('process.env'), rel(file)).toBe(false);
    }
  });

  it('runtime sees adapters and stores as interfaces only', () => {
    for (const file of all.filter((f) => rel(f).startsWith('src/runtime/'))) {
      for (const spec of importsOf(file)) {
        expect(/(embedded|http|lowdb)-/.test(spec), `${rel(file)} imports ${spec}`).toBe(false);
      }
    }
  });
});
