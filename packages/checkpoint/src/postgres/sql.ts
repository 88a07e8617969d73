/** Quoted table names of one store: checkpoints, sessions (counter, fence, expiry), quarantine. */
export interface Tables {
  records: string;
  sessions: string;
  quarantine: string;
}

export function tablesFor(table: string): Tables {
  return { records: `"${table}"`, sessions: `"${table}_sessions"`, quarantine: `"${table}_quarantine"` };
}

/**
 * Schema creation as one script: inside a transaction and under an advisory lock, so two processes
 * migrating at once cannot trip over each other's `CREATE TABLE IF NOT EXISTS`.
 */
export function ddl(t: Tables, table: string): string {
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${t.sessions} (
      session_id text PRIMARY KEY,
      revision bigint NOT NULL,
      fence bigint,
      first_revision bigint NOT NULL,
      born_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    )`,
    // "<revision>:<md5 of the latest save's envelope body>": checked on the locked row, so a repeat that
    // overlaps the first run (sent before it committed) is still recognised. The revision keeps it
    // honest while processes of an earlier version (which do not write it) still save. Added to tables
    // of earlier versions.
    // Only when missing: ALTER TABLE takes an exclusive lock even when IF NOT EXISTS finds the column.
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
        AND table_name = '${table}_sessions' AND column_name = 'latest_digest') THEN
        ALTER TABLE ${t.sessions} ADD COLUMN latest_digest text;
      END IF;
    END $$`,
    `CREATE INDEX IF NOT EXISTS "${table}_sessions_expires_at" ON ${t.sessions} (expires_at)`,
    `CREATE TABLE IF NOT EXISTS ${t.records} (
      session_id text NOT NULL,
      revision bigint NOT NULL,
      payload text NOT NULL,
      PRIMARY KEY (session_id, revision)
    )`,
    `CREATE TABLE IF NOT EXISTS ${t.quarantine} (
      session_id text NOT NULL,
      revision bigint NOT NULL,
      entry text NOT NULL,
      PRIMARY KEY (session_id, revision)
    )`,
  ];
  const lock = `SELECT pg_advisory_xact_lock(hashtext('cxkit_checkpoint_migrate:${table}'))`;
  return ['BEGIN', lock, ...statements, 'COMMIT'].join(';\n');
}

/**
 * A session row `s` is live while neither its TTL nor the store's hard maximum age (ms in `$n`) has
 * run out: a session older than a lowered `maxAgeSeconds` is expired at once, as in the Redis store.
 */
const live = (n: number) =>
  `s.expires_at > now() AND s.born_at + ($${n}::bigint * interval '1 millisecond') > now()`;

/** A stored payload's prefix before the envelope body (see `ins` below), and its savedAt. */
const prefixPattern = '^[{]"revision":[0-9]+,"savedAt":[0-9]+,$';
const savedAtPattern = '^[{]"revision":[0-9]+,"savedAt":([0-9]+),';

/**
 * The whole save in one statement. Its write to the session row is conditional and checks fence and
 * expected revision on the latest row version under its row lock, so concurrent savers serialize and
 * exactly one wins each revision. A save with an expected revision above 0 is a plain UPDATE of a live
 * row: when delete() or sweep() removed the row after the statement's snapshot, it finds nothing and
 * conflicts, as it would after them (an upsert would insert the session anew at revision 1, unchecked).
 * Any other save is an upsert whose `DO UPDATE ... WHERE` checks the fence; an expired row (also one
 * past this store's `maxAgeSeconds`) counts as no session: counter and fence start over, as after a
 * Redis key expires.
 *
 * Trimming keeps the first row and the newest $5. Each save deletes the one row leaving the window by
 * its exact key: a range over the session's older revisions would walk every deleted row version left
 * there until vacuum (thousands on a long session). Kept rows are contiguous, so older rows remain only
 * when the row just below that one exists (`history` was lowered), and rows above the new revision only
 * when an expired session starts over at 1: only then does the range delete run.
 *
 * A save whose envelope is the latest checkpoint's already (same checkpointId and content: a retry of
 * a save whose reply was lost) is answered from that row with its revision and savedAt, and writes
 * nothing: it passed the checks when it was written. The Redis save script does the same. A retry sent
 * while the first run was still committing cannot see that run in its snapshot: the session row's
 * `latest_digest`, checked under the row lock on the latest version, stops it from writing the save a
 * second time, and the read after a save that wrote nothing (`stateSql`) answers it from there.
 * $1 session id, $2 envelope body, $3 expected revision, $4 fence, $5 history, $6 ttl ms, $7 max age ms.
 */
export function saveSql(t: Tables): string {
  const ttl = `($6::bigint * interval '1 millisecond')`;
  const maxAge = `($7::bigint * interval '1 millisecond')`;
  const expired = `NOT (${live(7)})`;
  const fenceOk = '($4::bigint IS NULL OR s.fence IS NULL OR $4::bigint >= s.fence)';
  return `
WITH same AS (
  SELECT s.revision, substring(r.payload FROM '${savedAtPattern}')::bigint AS saved_at
  FROM ${t.sessions} s JOIN ${t.records} r ON r.session_id = s.session_id AND r.revision = s.revision
  WHERE s.session_id = $1 AND ${live(7)}
    AND right(r.payload, length($2) - 1) = substr($2, 2)
    AND left(r.payload, 1 - length($2)) ~ '${prefixPattern}'
), advanced AS (
  UPDATE ${t.sessions} s SET
    revision = s.revision + 1,
    fence = GREATEST(s.fence, $4::bigint),
    latest_digest = (s.revision + 1) || ':' || md5($2),
    expires_at = LEAST(now() + ${ttl}, s.born_at + ${maxAge})
  WHERE s.session_id = $1 AND $3::bigint > 0 AND NOT EXISTS (SELECT 1 FROM same)
    AND s.revision = $3::bigint AND ${live(7)} AND ${fenceOk}
  RETURNING s.revision, s.first_revision
), upserted AS (
  INSERT INTO ${t.sessions} AS s (session_id, revision, fence, first_revision, born_at, expires_at, latest_digest)
  SELECT $1, 1, $4::bigint, 1, now(), now() + ${ttl}, '1:' || md5($2)
  WHERE ($3::bigint IS NULL OR $3::bigint = 0) AND NOT EXISTS (SELECT 1 FROM same)
  ON CONFLICT (session_id) DO UPDATE SET
    latest_digest = (CASE WHEN ${expired} THEN 1 ELSE s.revision + 1 END) || ':' || md5($2),
    revision = CASE WHEN ${expired} THEN 1 ELSE s.revision + 1 END,
    fence = CASE WHEN ${expired} THEN $4::bigint ELSE GREATEST(s.fence, $4::bigint) END,
    first_revision = CASE WHEN ${expired} THEN 1 ELSE s.first_revision END,
    born_at = CASE WHEN ${expired} THEN now() ELSE s.born_at END,
    expires_at = CASE WHEN ${expired} THEN now() + ${ttl} ELSE LEAST(now() + ${ttl}, s.born_at + ${maxAge}) END
  WHERE ${expired} OR ($3::bigint IS NULL AND ${fenceOk} AND s.latest_digest IS DISTINCT FROM s.revision || ':' || md5($2))
  RETURNING s.revision, s.first_revision
), up AS (
  SELECT revision, first_revision, floor(extract(epoch FROM now()) * 1000)::bigint AS saved_at
  FROM (SELECT * FROM advanced UNION ALL SELECT * FROM upserted) w
), ins AS (
  INSERT INTO ${t.records} (session_id, revision, payload)
  SELECT $1, up.revision, '{"revision":' || up.revision || ',"savedAt":' || up.saved_at || ',' || substr($2, 2)
  FROM up
  ON CONFLICT (session_id, revision) DO UPDATE SET payload = EXCLUDED.payload
), trim_one AS (
  DELETE FROM ${t.records} r USING up
  WHERE r.session_id = $1 AND r.revision = up.revision - $5::int AND r.revision <> up.first_revision
), trim_rest AS (
  DELETE FROM ${t.records} r USING up
  WHERE (up.revision = 1 OR EXISTS (
      SELECT 1 FROM ${t.records} o
      WHERE o.session_id = $1 AND o.revision = up.revision - $5::int - 1 AND o.revision <> up.first_revision))
    AND r.session_id = $1 AND r.revision <> up.first_revision
    AND (r.revision < up.revision - $5::int OR r.revision > up.revision)
), stale_quarantine AS (
  DELETE FROM ${t.quarantine} q USING up WHERE q.session_id = $1 AND q.revision >= up.revision
)
SELECT revision, saved_at FROM up UNION ALL SELECT revision, saved_at FROM same`;
}

/**
 * Why a save wrote nothing, read after the fact: the fence only grows, so a stale one stays stale; a
 * latest checkpoint that is this save ($3, its envelope body) means a concurrent run of it committed,
 * answered with its revision and savedAt. This and the reads below (not delete and sweep) take the
 * store's max age in ms as $2, for `live`.
 */
export const stateSql = (t: Tables) => `
  SELECT s.revision, s.fence, s.latest_digest = s.revision || ':' || md5($3) AS same,
    (SELECT substring(r.payload FROM '${savedAtPattern}')::bigint FROM ${t.records} r
     WHERE r.session_id = s.session_id AND r.revision = s.revision) AS saved_at
  FROM ${t.sessions} s WHERE s.session_id = $1 AND ${live(2)}`;

/** Rows of a live session inside its retention window ($2 history, $4 max age). */
const retained = (t: Tables) => `
  FROM ${t.sessions} s JOIN ${t.records} r ON r.session_id = s.session_id
  WHERE s.session_id = $1 AND ${live(4)} AND r.revision <= s.revision
    AND (r.revision = s.first_revision OR r.revision > s.revision - $2::int)`;

export const latestSql = (t: Tables) => `
  SELECT r.revision, r.payload FROM ${t.sessions} s
  JOIN ${t.records} r ON r.session_id = s.session_id AND r.revision = s.revision
  WHERE s.session_id = $1 AND ${live(2)}`;

export const getSql = (t: Tables) =>
  `SELECT r.revision, r.payload ${retained(t)} AND r.revision = $3::bigint`;

export const historySql = (t: Tables) =>
  `SELECT r.revision, r.payload ${retained(t)} ORDER BY r.revision DESC LIMIT $3::int`;

/** Write-back of an upcast latest ($3), only while it is still exactly the payload read ($5). */
export const rewriteSql = (t: Tables) => `
  UPDATE ${t.records} r SET payload = $3 FROM ${t.sessions} s
  WHERE r.session_id = $1 AND r.revision = $2::bigint AND r.payload = $5
    AND s.session_id = $1 AND s.revision = $2::bigint AND ${live(4)}`;

export const quarantineSql = (t: Tables) => `
WITH live AS (
  SELECT 1 FROM ${t.sessions} s WHERE s.session_id = $1 AND ${live(5)}
), ins AS (
  INSERT INTO ${t.quarantine} (session_id, revision, entry)
  SELECT $1, $2::bigint, $3 WHERE EXISTS (SELECT 1 FROM live)
    AND (SELECT count(*) FROM ${t.quarantine} WHERE session_id = $1) < $4::int
  ON CONFLICT (session_id, revision) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)
  + (SELECT count(*) FROM ${t.quarantine} WHERE session_id = $1 AND revision = $2::bigint) AS kept`;

export const quarantinedSql = (t: Tables) => `
  SELECT q.entry FROM ${t.quarantine} q JOIN ${t.sessions} s ON s.session_id = q.session_id
  WHERE q.session_id = $1 AND ${live(2)} ORDER BY q.revision DESC`;

export const deleteSql = (t: Tables) => `
WITH gone AS (
  DELETE FROM ${t.sessions} WHERE session_id = $1 RETURNING expires_at > now() AS live
), records AS (
  DELETE FROM ${t.records} WHERE session_id = $1
), quarantine AS (
  DELETE FROM ${t.quarantine} WHERE session_id = $1
)
SELECT coalesce(bool_or(live), false) AS removed FROM gone`;

/** Removes up to $1 expired sessions with their rows; a session a save revives meanwhile is skipped. */
export const sweepSql = (t: Tables) => `
WITH picked AS (
  SELECT session_id FROM ${t.sessions} WHERE expires_at <= now()
  ORDER BY expires_at LIMIT $1::int FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${t.sessions} s USING picked
  WHERE s.session_id = picked.session_id AND s.expires_at <= now()
  RETURNING s.session_id
), records AS (
  DELETE FROM ${t.records} WHERE session_id IN (SELECT session_id FROM gone)
), quarantine AS (
  DELETE FROM ${t.quarantine} WHERE session_id IN (SELECT session_id FROM gone)
)
SELECT count(*) AS removed FROM gone`;
