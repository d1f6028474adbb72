// Numbered schema migrations, applied in order at open; PRAGMA user_version records the last one applied.
// Never edit a migration that has shipped: add the next one.

export const MIGRATIONS: readonly string[] = [
  // 1: runs, per-scope status, temporal entity versions, volatile activity.
  `
  CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    pid         INTEGER,
    trigger     TEXT NOT NULL DEFAULT 'cli',
    error       TEXT,
    -- Evidence chain: digest = sha256(prev_digest, this run's scope statuses, the sum of its rows' hashes).
    prev_digest TEXT,
    digest      TEXT
  );

  -- One (source, scope) pair, interned so that version rows carry an integer, not two strings.
  CREATE TABLE scopes (
    sid         INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    scope       TEXT NOT NULL,
    source_type TEXT NOT NULL,
    UNIQUE (source, scope)
  );

  CREATE TABLE source_runs (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    sid         INTEGER NOT NULL REFERENCES scopes(sid),
    label       TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    requests    INTEGER NOT NULL DEFAULT 0,
    principals  INTEGER NOT NULL DEFAULT 0,
    credentials INTEGER NOT NULL DEFAULT 0,
    grants      INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    meta        TEXT,
    PRIMARY KEY (run_id, sid)
  ) WITHOUT ROWID;

  -- Temporal versions: a row holds from run from_run up to (not including) to_run; to_run NULL = current.
  -- One index serves the writer's current-version look-up, history reads and uniqueness; the partial
  -- index on to_run stays empty until something changes. Fewer indexes = faster ingest.
  CREATE TABLE principals (
    vid          INTEGER PRIMARY KEY,
    sid          INTEGER NOT NULL,
    id           TEXT NOT NULL,
    from_run     INTEGER NOT NULL,
    to_run       INTEGER,
    hash         BLOB NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    email        TEXT,
    display_name TEXT,
    status       TEXT NOT NULL,
    mfa          TEXT NOT NULL,
    created_at   TEXT,
    access_level TEXT NOT NULL,
    attributes   TEXT
  );
  CREATE UNIQUE INDEX principals_key ON principals (sid, id, from_run);
  CREATE INDEX principals_to ON principals (sid, to_run) WHERE to_run IS NOT NULL;

  CREATE TABLE credentials (
    vid          INTEGER PRIMARY KEY,
    sid          INTEGER NOT NULL,
    id           TEXT NOT NULL,
    from_run     INTEGER NOT NULL,
    to_run       INTEGER,
    hash         BLOB NOT NULL,
    principal_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT,
    status       TEXT NOT NULL,
    created_at   TEXT,
    expires_at   TEXT,
    attributes   TEXT
  );
  CREATE UNIQUE INDEX credentials_key ON credentials (sid, id, from_run);
  CREATE INDEX credentials_to ON credentials (sid, to_run) WHERE to_run IS NOT NULL;

  CREATE TABLE grants (
    vid          INTEGER PRIMARY KEY,
    sid          INTEGER NOT NULL,
    id           TEXT NOT NULL,
    from_run     INTEGER NOT NULL,
    to_run       INTEGER,
    hash         BLOB NOT NULL,
    principal_id TEXT NOT NULL,
    privilege    TEXT NOT NULL,
    level        TEXT NOT NULL,
    grant_scope  TEXT NOT NULL,
    via          TEXT NOT NULL,
    attributes   TEXT
  );
  CREATE UNIQUE INDEX grants_key ON grants (sid, id, from_run);
  CREATE INDEX grants_to ON grants (sid, to_run) WHERE to_run IS NOT NULL;

  -- Last active / last used, written only when the value changes. entity: 0 = principal, 1 = credential.
  CREATE TABLE activity (
    sid     INTEGER NOT NULL,
    entity  INTEGER NOT NULL,
    id      TEXT NOT NULL,
    run     INTEGER NOT NULL,
    at      TEXT,
    known   INTEGER NOT NULL,
    signal  TEXT,
    PRIMARY KEY (sid, entity, id, run)
  ) WITHOUT ROWID;
  `,
  // 2: what the daemon (and "report --send") delivered for a run: report files, emails, webhook alerts.
  // Not part of the evidence digest: a delivery describes what happened after the run, not the run.
  `
  CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL CHECK (channel IN ('file', 'email', 'webhook')),
    -- file path, recipient list or alert name: never a webhook URL (Slack's carries its token).
    target      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    -- the report's previous run, for emails: the next one starts where this one ended.
    since_run   INTEGER,
    detail      TEXT,
    error       TEXT
  );
  CREATE INDEX deliveries_run ON deliveries (run_id);
  `,
  // 3: a scope can end "partial" (some records quarantined, the rest stored); what was quarantined and why.
  // The quarantine keeps the record's table, kind, ids and the reason, never the record itself: it could hold a secret.
  `
  CREATE TABLE source_runs_v3 (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    sid         INTEGER NOT NULL REFERENCES scopes(sid),
    label       TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    requests    INTEGER NOT NULL DEFAULT 0,
    principals  INTEGER NOT NULL DEFAULT 0,
    credentials INTEGER NOT NULL DEFAULT 0,
    grants      INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    meta        TEXT,
    PRIMARY KEY (run_id, sid)
  ) WITHOUT ROWID;
  INSERT INTO source_runs_v3 SELECT run_id, sid, label, status, started_at, finished_at, requests, principals, credentials, grants, error, meta FROM source_runs;
  DROP TABLE source_runs;
  ALTER TABLE source_runs_v3 RENAME TO source_runs;

  CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    sid          INTEGER NOT NULL REFERENCES scopes(sid),
    -- principals | credentials | grants
    entity       TEXT NOT NULL,
    kind         TEXT,
    record_id    TEXT,
    principal_id TEXT,
    reason       TEXT NOT NULL
  );
  CREATE INDEX quarantine_run ON quarantine (run_id, sid);
  `,
  // 4: remediation. A plan as whohas computed it (its content hash: apply runs only plans whohas made), its
  // actions with their current state, and action_log: every state an action went through, append-only and
  // hash-chained (the evidence digest of what whohas changed; `whohas verify` checks it). remediation_pending
  // is the notice and grace bookkeeping of findings an entry will act on once they are due.
  `
  CREATE TABLE plans (
    id           TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    file         TEXT,
    actions      INTEGER NOT NULL,
    blocked      TEXT,
    detail       TEXT
  );

  CREATE TABLE actions (
    id              TEXT PRIMARY KEY,
    plan_id         TEXT NOT NULL REFERENCES plans(id),
    entry           TEXT NOT NULL,
    type            TEXT NOT NULL,
    source          TEXT NOT NULL,
    scope           TEXT NOT NULL,
    -- the run whose state the action was planned from (the scope's latest ok run then)
    run_id          INTEGER NOT NULL,
    principal_id    TEXT NOT NULL,
    principal_name  TEXT NOT NULL,
    credential_id   TEXT,
    credential_name TEXT,
    grant_privilege TEXT,
    target          TEXT NOT NULL,
    finding_id      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('planned', 'applied', 'done', 'failed', 'skipped', 'unknown', 'undone')),
    -- the provider's answer in brief, or why it failed or was skipped; never a secret
    answer          TEXT,
    undo            TEXT,
    requests        INTEGER NOT NULL DEFAULT 0,
    approver        TEXT,
    planned_at      TEXT NOT NULL,
    applied_at      TEXT,
    undone_at       TEXT,
    undone_by       TEXT,
    updated_at      TEXT NOT NULL
  );
  CREATE INDEX actions_plan ON actions (plan_id);
  CREATE INDEX actions_status ON actions (status, updated_at);

  CREATE TABLE action_log (
    seq         INTEGER PRIMARY KEY,
    action_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT,
    answer      TEXT,
    undo        TEXT,
    prev_digest TEXT,
    digest      TEXT NOT NULL
  );
  CREATE INDEX action_log_action ON action_log (action_id, seq);

  CREATE TABLE remediation_pending (
    entry        TEXT NOT NULL,
    finding_id   TEXT NOT NULL,
    source       TEXT NOT NULL,
    scope        TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    subject      TEXT NOT NULL,
    first_seen   TEXT NOT NULL,
    -- last activity of the account or credential when first seen: activity since cancels the action
    activity     TEXT,
    notified_at  TEXT,
    notified_to  TEXT,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'cancelled', 'acted')),
    reason       TEXT,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (entry, finding_id)
  ) WITHOUT ROWID;
  `,
  // 5: provider audit events (append-only) and the health and coverage of each event feed.
  // An event is sealed into the next run's evidence digest (sealed_run); events_pruned keeps the row sum of a
  // run's events that retention deleted, so the chain still verifies.
  `
  CREATE TABLE events (
    eid               INTEGER PRIMARY KEY,
    sid               INTEGER NOT NULL REFERENCES scopes(sid),
    feed              TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    at                TEXT NOT NULL,
    action            TEXT NOT NULL,
    provider_action   TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    actor_id          TEXT,
    actor_name        TEXT,
    actor_kind        TEXT NOT NULL,
    target_principal  TEXT,
    target_name       TEXT,
    target_privilege  TEXT,
    target_credential TEXT,
    ip                TEXT,
    user_agent        TEXT,
    details           TEXT,
    ingested_at       TEXT NOT NULL,
    sealed_run        INTEGER,
    UNIQUE (sid, feed, event_id)
  );
  CREATE INDEX events_at ON events (at);
  CREATE INDEX events_target ON events (sid, target_principal, at);
  CREATE INDEX events_unsealed ON events (eid) WHERE sealed_run IS NULL;

  CREATE TABLE feed_state (
    sid           INTEGER NOT NULL REFERENCES scopes(sid),
    feed          TEXT NOT NULL,
    cursor        TEXT,
    -- The continuous window the stored events cover: "no event" is a claim about this window only.
    covered_from  TEXT,
    covered_until TEXT,
    -- polling: a poll began and has not finished (or its process died); the cursor is where it got to.
    status        TEXT NOT NULL CHECK (status IN ('polling', 'ok', 'unavailable', 'failed')),
    reason        TEXT,
    -- Events the reader yielded that could not be stored (malformed), over the feed's life.
    rejected      INTEGER NOT NULL DEFAULT 0,
    last_poll_at  TEXT NOT NULL,
    last_ok_at    TEXT,
    PRIMARY KEY (sid, feed)
  ) WITHOUT ROWID;

  CREATE TABLE events_pruned (
    run_id INTEGER PRIMARY KEY,
    rows   INTEGER NOT NULL,
    sum    TEXT NOT NULL
  );
  `,
  // 6: findings stored per run. A finding set is one evaluation of a run's rules under one policy (config
  // fingerprint), with or without the diff from an earlier run (basis; 0 = the run's state alone). Sets are
  // derived data: a missing or stale one is evaluated again from the run's rows, never trusted blindly.
  // A finding that reads the same in many runs is stored once (finding_bodies); a set row is a few integers.
  // Each set's digest covers its rows as read back and the run's digest, so "whohas verify" catches an edit.
  `
  CREATE TABLE finding_sets (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    basis        INTEGER NOT NULL,
    policy       TEXT NOT NULL,
    -- what else a set with a basis read: the audit events and feed coverage that attributed its changes
    inputs       TEXT NOT NULL DEFAULT '',
    -- NULL while the evaluation is being written; a set without a digest is incomplete and ignored.
    digest       TEXT,
    -- rows this evaluation reports (in_run = 1), and rows a state-only evaluation reports (in_state = 1).
    reported     INTEGER NOT NULL DEFAULT 0,
    state        INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX finding_sets_key ON finding_sets (run_id, basis, policy);

  -- A finding's stable id (rule + subject ids), interned: "new since the last run" joins on fid.
  CREATE TABLE finding_ids (
    fid INTEGER PRIMARY KEY,
    id  TEXT NOT NULL UNIQUE
  );

  -- What a finding says; hash = sha1 of its values, so an unchanged finding is found, not stored again.
  CREATE TABLE finding_bodies (
    bid           INTEGER PRIMARY KEY,
    hash          BLOB NOT NULL UNIQUE,
    fid           INTEGER NOT NULL,
    rule          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    source        TEXT NOT NULL,
    scope         TEXT NOT NULL,
    subject       TEXT NOT NULL,
    principal_id  TEXT,
    credential_id TEXT,
    detail        TEXT NOT NULL
  );

  CREATE TABLE findings (
    set_id   INTEGER NOT NULL REFERENCES finding_sets(id) ON DELETE CASCADE,
    fid      INTEGER NOT NULL,
    bid      INTEGER NOT NULL,
    -- emission order: ties in the report's sort keep it
    ord      INTEGER NOT NULL,
    -- reported by this evaluation; found by an evaluation of the run's state alone (what "new" compares with)
    in_run   INTEGER NOT NULL,
    in_state INTEGER NOT NULL,
    PRIMARY KEY (set_id, fid)
  ) WITHOUT ROWID;
  `,
  // 7: role definitions: what each role, policy or group held by anyone permits, versioned like grants (an
  // unchanged definition costs nothing in a new run). privilege is what its grants carry; holder_id is set
  // for a definition that belongs to one principal (an AWS inline policy). permissions: JSON list of lines.
  `
  CREATE TABLE roles (
    vid          INTEGER PRIMARY KEY,
    sid          INTEGER NOT NULL,
    id           TEXT NOT NULL,
    from_run     INTEGER NOT NULL,
    to_run       INTEGER,
    hash         BLOB NOT NULL,
    privilege    TEXT NOT NULL,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    level        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    holder_id    TEXT,
    attributes   TEXT
  );
  CREATE UNIQUE INDEX roles_key ON roles (sid, id, from_run);
  CREATE INDEX roles_to ON roles (sid, to_run) WHERE to_run IS NOT NULL;
  `,
  // 8: each run's evidence digest format (integrity.ts DIGEST_FORMAT). Runs sealed before it are format 2;
  // the writer records the format it writes, and verify checks each run by its own.
  `
  ALTER TABLE runs ADD COLUMN digest_format INTEGER NOT NULL DEFAULT 2;
  `,
];
