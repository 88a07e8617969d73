// Preload for running cxkit from TypeScript source in child processes (tests, demo):
// `node --conditions=@cxkit/source --import tsx --import ./tools/register-source.mjs file.ts`
import { register } from 'node:module';

register('./lua-hooks.mjs', import.meta.url);
