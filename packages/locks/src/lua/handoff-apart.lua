-- cxkit locks: the hand-off's general case (prepended to handoff.lua; not a script on its own): the
-- release script, then the acquire script, each over its own KEYS and ARGV, in this one call. Their
-- code is built only when this runs, so the plain hand-off pays for none of it.
local function cx_apart()
  local function release_part(KEYS, ARGV)
--[[release]]
  end
  local function acquire_part(KEYS, ARGV)
--[[common]]
--[[override]]
--[[acquire]]
  end
  -- A part that fails answers with its error, as it would on its own (the other part still counts).
  local function run(part, keys, argv)
    local ok, reply = pcall(part, keys, argv)
    if ok then return reply end
    if type(reply) == 'table' and reply.err then return reply end
    return { err = tostring(reply) }
  end
  local released = run(release_part, { KEYS[3], KEYS[4] }, { unpack(ARGV, 11, 16) })
  return { released, run(acquire_part, KEYS, { unpack(ARGV, 1, 10) }) }
end
