// Lua scripts are bundled as text (tsup loader, vitest plugin, tools/lua-hooks.mjs).
declare module '*.lua' {
  const source: string;
  export default source;
}
