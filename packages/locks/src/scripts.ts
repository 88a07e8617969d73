import { createHash } from 'node:crypto';
import acquireLua from './lua/acquire.lua';
import acquireHeadLua from './lua/acquire-head.lua';
import commonLua from './lua/common.lua';
import grantLua from './lua/grant.lua';
import handoffLua from './lua/handoff.lua';
import handoffApartLua from './lua/handoff-apart.lua';
import heartbeatLua from './lua/heartbeat.lua';
import inspectLua from './lua/inspect-2.lua';
import overrideLua from './lua/override.lua';
import raiseLua from './lua/raise-1.lua';
import releaseLua from './lua/release.lua';
import semAcquireLua from './lua/sem-acquire-4.lua';
import semHeartbeatLua from './lua/sem-heartbeat-3.lua';
import semReleaseLua from './lua/sem-release-2.lua';

/** Bumped whenever a script or the record layout changes, so two versions on one server never mix. */
export const SCRIPT_VERSION = 11;

/** One Lua script, identified by a versioned name and called by SHA. */
export interface LockScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(operation: string, ...parts: string[]): LockScript {
  const name = `cxkit_locks_v${SCRIPT_VERSION}_${operation}`;
  // The name line makes the SHA differ between versions even if a body stays the same.
  const source = `-- ${name}\n${parts.join('\n')}`;
  return Object.freeze({ name, source, sha: createHash('sha1').update(source).digest('hex') });
}

export const scripts = Object.freeze({
  acquire: script('acquire', grantLua, acquireHeadLua, commonLua, overrideLua, acquireLua),
  heartbeat: script('heartbeat', commonLua, heartbeatLua),
  release: script('release', releaseLua),
  handoff: script(
    'handoff',
    grantLua,
    handoffApartLua
      .replace('--[[release]]', () => releaseLua)
      .replace('--[[common]]', () => commonLua)
      .replace('--[[override]]', () => overrideLua)
      .replace('--[[acquire]]', () => `${acquireHeadLua}\n${acquireLua}`),
    handoffLua,
  ),
  raise: script('raise', commonLua, raiseLua),
  inspect: script('inspect', commonLua, inspectLua),
  semAcquire: script('sem_acquire', commonLua, grantLua, overrideLua, semAcquireLua),
  semHeartbeat: script('sem_heartbeat', commonLua, semHeartbeatLua),
  semRelease: script('sem_release', semReleaseLua),
});
