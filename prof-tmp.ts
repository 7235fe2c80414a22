import { join } from 'node:path';
import { loadCatalogue } from './src/domain/catalogue.js';
import { DATA_ASSETS_DIR } from './src/paths.js';
import { createNlu } from './src/nlu/index.js';
import { loadCorpus, splitCorpus } from './src/nlu/corpus.js';
const cat = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'));
const { train, test } = splitCorpus(loadCorpus());
let c0 = process.cpuUsage();
const nlu = createNlu(cat, { examples: train });
let c1 = process.cpuUsage(c0);
console.log('build cpu ms', ((c1.user + c1.system) / 1000).toFixed(0));
const texts = test.map((e) => e.text);
for (let r = 0; r < 5; r++) {
  c0 = process.cpuUsage();
  for (const t of texts) nlu.parse(t);
  c1 = process.cpuUsage(c0);
  console.log('utt/s (cpu time)', Math.round(texts.length / ((c1.user + c1.system) / 1e6)));
}
