import { join } from 'node:path';
import { loadCatalogue } from './src/domain/catalogue.js';
import { DATA_ASSETS_DIR } from './src/paths.js';
import { createNlu } from './src/nlu/index.js';
import { loadCorpus } from './src/nlu/corpus.js';
const cat = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'));
const mode = process.argv[2];
const t0 = performance.now();
const nlu = createNlu(cat, mode === 'nocache' ? { cacheDir: null } : {});
console.log(mode, 'build ms', (performance.now() - t0).toFixed(0));
const texts = loadCorpus().map((e) => e.text);
const a = texts.map((t) => JSON.stringify(nlu.parse(t)));
if (mode === 'check') { const b = createNlu(cat, { cacheDir: null }); console.log('identical to uncached:', texts.every((t, i) => JSON.stringify(b.parse(t)) === a[i])); }
