/** Defaults from the split-brain prevention guide (seed 001). Every option of both stores. */
export const defaults = Object.freeze({
  /** Sliding time to live, refreshed by every save (the seed's maximum session duration). @default 3_600 (1 h) */
  ttlSeconds: 3_600,
  /** Hard maximum age counted from a session's first save; sliding never extends past it. @default 86_400 (24 h) */
  maxAgeSeconds: 86_400,
  /** Newest checkpoints kept per session; the session's first checkpoint is kept besides them. @default 10 */
  history: 10,
  /** Cap on one serialized checkpoint, in bytes. @default 65_536 (64 KiB) */
  maxBytes: 65_536,
  /** Longest accepted session id, in characters. @default 256 */
  maxSessionIdLength: 256,
  /** Quarantined payloads kept per session (`onUnknownVersion: 'quarantine'`). @default 10 */
  maxQuarantined: 10,
  /** Whether `latest()` replaces an upcast payload in place (same revision). @default false */
  writeBackMigrated: false,
  /** Redis key prefix: a session lives in `<namespace>:{<sessionId>}`. @default 'cxkit:checkpoint' */
  namespace: 'cxkit:checkpoint',
  /** Postgres table name (plus `<table>_sessions`, `<table>_quarantine`). @default 'cxkit_checkpoints' */
  table: 'cxkit_checkpoints',
});
