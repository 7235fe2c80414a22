import { join } from 'node:path';
import { loadCatalogue } from '../../src/domain/catalogue.js';
import { createNlu } from '../../src/nlu/index.js';
import { DATA_ASSETS_DIR } from '../../src/paths.js';

/**
 * Trains the NLU model once before the test files start, so that on a clean clone (an empty model
 * cache) the workers and the bots the tests spawn load the cached model instead of each training it
 * at the same time on a busy machine.
 */
export default function setup(): void {
  createNlu(loadCatalogue(join(DATA_ASSETS_DIR, 'catalogue.json')));
}
