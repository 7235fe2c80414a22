import { join } from 'node:path';
import { loadCatalogue } from '../../src/domain/catalogue.js';
import { DATA_ASSETS_DIR } from '../../src/paths.js';
import { createNlu, type TrainedNlu } from '../../src/nlu/index.js';

export const catalogue = loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json'));

let shared: TrainedNlu | null = null;

/** One NLU trained on the whole corpus, shared by the tests of one file. */
export function productionNlu(): TrainedNlu {
  shared ??= createNlu(catalogue);
  return shared;
}
