// The reply thread run from the TypeScript sources (tests, `npm run dev`): tsx compiles
// reply-worker.ts on the fly. The built bot (dist/) starts reply-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./reply-worker.ts');
