import saveLua from './save-1.lua';
import { Script } from './scripts.js';

export interface SaveSettings {
  history: number;
  ttlMs: number;
  maxAgeMs: number;
}

/**
 * The save script with the store's settings written in as Lua constants: they are the same on every
 * call, so passing them as arguments would only cost the server a string and a number conversion
 * each per save. Each combination of settings is its own script (its own SHA) on the server.
 */
export function saveScript({ history, ttlMs, maxAgeMs }: SaveSettings): Script {
  const constants = `local HISTORY, HISTORY_TEXT, TTL_MS, MAX_AGE_MS = ${history}, ' ${history} ', ${ttlMs}, ${maxAgeMs}\n`;
  return new Script(constants + saveLua);
}
