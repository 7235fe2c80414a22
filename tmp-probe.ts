import { join } from 'node:path';
import { loadCatalogue } from './src/domain/catalogue.js';
import { DATA_ASSETS_DIR } from './src/paths.js';
import { createNlu } from './src/nlu/index.js';
const nlu = createNlu(loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json')));
for (const t of process.argv.slice(2)) { const r = nlu.parse(t); console.log(r.intent, r.confidence.toFixed(2), r.target, r.negated, t); }
