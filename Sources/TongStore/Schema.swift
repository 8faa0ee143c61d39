import GRDB

/// The database schema as a list of migrations. Migrations are only ever added, never edited
/// once shipped, and use no app types.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-replica") { db in
            try db.execute(
                sql: """
                    CREATE TABLE node_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        node_id TEXT NOT NULL CHECK (length(node_id) = 6),
                        counter INTEGER NOT NULL CHECK (counter >= 0),
                        log_epoch TEXT NOT NULL,
                        restore_pending INTEGER NOT NULL DEFAULT 0 CHECK (restore_pending IN (0, 1)),
                        created_at INTEGER NOT NULL
                    );
                    -- Every record of every kind: the merge state (meta), causal history (version) and
                    -- the winning values (doc, canonical JSON).
                    CREATE TABLE record (
                        rowid INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL CHECK (kind IN ('node','department','policy','service_item','survey','feedback','stats')),
                        owner TEXT NOT NULL CHECK (length(owner) = 6),
                        version TEXT NOT NULL,
                        meta TEXT NOT NULL,
                        doc TEXT NOT NULL,
                        conflicts INTEGER NOT NULL DEFAULT 0,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX record_kind ON record(kind, owner);
                    CREATE INDEX record_conflicts ON record(conflicts) WHERE conflicts > 0;
                    -- Search projections of policies and service items.
                    CREATE TABLE policy_index (
                        rowid INTEGER PRIMARY KEY REFERENCES record(rowid) ON DELETE CASCADE,
                        region TEXT NOT NULL,
                        department TEXT NOT NULL,
                        themes INTEGER NOT NULL,
                        audiences INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('active','withdrawn')),
                        issued_on TEXT NOT NULL
                    );
                    CREATE INDEX policy_index_issued ON policy_index(issued_on);
                    CREATE INDEX policy_index_region ON policy_index(region);
                    CREATE INDEX policy_index_department ON policy_index(department);
                    CREATE TABLE service_index (
                        rowid INTEGER PRIMARY KEY REFERENCES record(rowid) ON DELETE CASCADE,
                        region TEXT NOT NULL,
                        department TEXT NOT NULL,
                        themes INTEGER NOT NULL,
                        audiences INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('active','withdrawn'))
                    );
                    CREATE INDEX service_index_department ON service_index(department);
                    CREATE VIRTUAL TABLE text_fts USING fts5(title, doc_number, body, tags, tokenize='tong_bigram');
                    -- The change log: every set applied here, as received (signed, unmodified), in
                    -- the order applied. seq is what peers' cursors point into.
                    CREATE TABLE change_log (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        set_id TEXT NOT NULL UNIQUE,
                        origin TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        changes INTEGER NOT NULL CHECK (changes > 0),
                        received_from TEXT,
                        wire BLOB NOT NULL,
                        logged_at INTEGER NOT NULL
                    );
                    -- What this node applied of each peer's log.
                    CREATE TABLE peer_cursor (
                        peer TEXT PRIMARY KEY,
                        epoch TEXT NOT NULL,
                        seq INTEGER NOT NULL CHECK (seq >= 0),
                        updated_at INTEGER NOT NULL
                    );
                    -- Highest counter seen from each origin: a restored node resumes above it.
                    CREATE TABLE origin_seen (
                        origin TEXT PRIMARY KEY,
                        counter INTEGER NOT NULL
                    );
                    CREATE TABLE rejection (
                        id INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        peer TEXT NOT NULL,
                        origin TEXT,
                        set_id TEXT,
                        reason TEXT NOT NULL
                    );
                    -- Receipts of feedback submitted here: only the hash of the secret code is kept.
                    CREATE TABLE receipt (
                        hash TEXT PRIMARY KEY,
                        feedback_id TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL
                    );
                    """)
        }
        m.registerMigration("v2-feedback-index") { db in
            // Feedback by department, status and survey, so an inbox, a tally or the supervision
            // figures never scan every record (nor stop at the oldest thousand).
            try db.execute(
                sql: """
                    CREATE TABLE feedback_index (
                        rowid INTEGER PRIMARY KEY REFERENCES record(rowid) ON DELETE CASCADE,
                        department TEXT NOT NULL,
                        status TEXT NOT NULL,
                        open INTEGER NOT NULL CHECK (open IN (0, 1)),
                        form TEXT NOT NULL,
                        survey TEXT,
                        submitted_at TEXT NOT NULL,
                        due_on TEXT NOT NULL,
                        replied_at TEXT NOT NULL
                    );
                    CREATE INDEX feedback_index_department ON feedback_index(department, open, submitted_at);
                    CREATE INDEX feedback_index_survey ON feedback_index(survey) WHERE survey IS NOT NULL;
                    CREATE INDEX feedback_index_undelivered ON feedback_index(department) WHERE status = 'submitted';
                    INSERT INTO feedback_index (rowid, department, status, open, form, survey, submitted_at, due_on, replied_at)
                    SELECT rowid, department, status, status NOT IN ('replied', 'closed'), form, survey, submitted_at, due_on, replied_at FROM (
                        SELECT rowid,
                               coalesce(json_extract(doc, '$.department'), '') AS department,
                               coalesce(json_extract(doc, '$.status'), 'submitted') AS status,
                               coalesce(json_extract(doc, '$.form'), '') AS form,
                               nullif(json_extract(doc, '$.survey'), '') AS survey,
                               coalesce(json_extract(doc, '$.submitted_at'), '') AS submitted_at,
                               coalesce(json_extract(doc, '$.due_on'), '') AS due_on,
                               coalesce(json_extract(doc, '$.replied_at'), '') AS replied_at
                        FROM record WHERE kind = 'feedback');
                    """)
        }
        m.registerMigration("v3-enterprises") { db in
            // Enterprise profiles (送达) live only at the node where they registered: no change
            // set ever carries them. Deliveries are the durable outbox: written in the same
            // transaction as the record version that made them, one per (enterprise, record, version).
            try db.execute(
                sql: """
                    CREATE TABLE enterprise (
                        id TEXT PRIMARY KEY,
                        uscc TEXT NOT NULL UNIQUE,
                        token_hash TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL,
                        region TEXT NOT NULL,
                        industry TEXT NOT NULL,
                        employees INTEGER NOT NULL CHECK (employees >= 0),
                        revenue_wan INTEGER NOT NULL CHECK (revenue_wan >= 0),
                        assets_wan INTEGER NOT NULL CHECK (assets_wan >= 0),
                        established_on TEXT NOT NULL,
                        taxpayer TEXT NOT NULL,
                        size_class TEXT NOT NULL CHECK (size_class IN ('micro', 'small', 'medium', 'large')),
                        contact TEXT NOT NULL,
                        webhook_url TEXT,
                        webhook_secret TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY,
                        enterprise TEXT NOT NULL REFERENCES enterprise(id) ON DELETE CASCADE,
                        record TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        department TEXT NOT NULL,
                        version TEXT NOT NULL,
                        title TEXT NOT NULL,
                        offer INTEGER NOT NULL DEFAULT 0 CHECK (offer IN (0, 1)),
                        created_at INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'feed')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER,
                        last_error TEXT,
                        delivered_at INTEGER,
                        UNIQUE (enterprise, record, version)
                    );
                    CREATE INDEX delivery_due ON delivery(next_attempt_at) WHERE state = 'pending';
                    CREATE INDEX delivery_enterprise ON delivery(enterprise, id);
                    CREATE INDEX delivery_record ON delivery(record, state);
                    CREATE TABLE enterprise_application (
                        feedback_id TEXT PRIMARY KEY,
                        enterprise TEXT NOT NULL REFERENCES enterprise(id) ON DELETE CASCADE,
                        policy TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE INDEX enterprise_application_policy ON enterprise_application(enterprise, policy);
                    -- Each logged set's counter range, so an equivocation names the set it contradicts.
                    ALTER TABLE change_log ADD COLUMN min_counter INTEGER;
                    ALTER TABLE change_log ADD COLUMN max_counter INTEGER;
                    CREATE INDEX change_log_counters ON change_log(origin, max_counter);
                    -- The audit trail: every accepted and rejected set and every hold or key event,
                    -- each entry carrying the SHA-256 of the one before (a hash chain, as in RFC 6962).
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        event TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        prev TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE
                    );
                    """)
        }
        m.registerMigration("v4-readable-views") { db in
            // The replica readable without Tong: one column per field over `record.doc`, for the
            // sqlite3 shell and SQL tools (docs/operations.md). Views only: nothing is copied,
            // they are always current, and they cost nothing until queried.
            try db.execute(
                sql: """
                    CREATE VIEW policies AS SELECT
                        id, owner,
                        json_extract(doc, '$.status') AS status,
                        json_extract(doc, '$.title') AS title,
                        json_extract(doc, '$.doc_number') AS doc_number,
                        json_extract(doc, '$.department') AS department,
                        json_extract(doc, '$.region') AS region,
                        json_extract(doc, '$.issued_on') AS issued_on,
                        json_extract(doc, '$.effective_from') AS effective_from,
                        json_extract(doc, '$.effective_to') AS effective_to,
                        json_extract(doc, '$.apply_from') AS apply_from,
                        json_extract(doc, '$.apply_to') AS apply_to,
                        json_extract(doc, '$.themes') AS themes,
                        json_extract(doc, '$.audiences') AS audiences,
                        json_extract(doc, '$.tags') AS tags,
                        json_extract(doc, '$.source_url') AS source_url,
                        json_extract(doc, '$.body') AS body,
                        json_extract(doc, '$.eligibility') AS eligibility,
                        json_extract(doc, '$.application') AS application,
                        conflicts,
                        datetime(updated_at / 1000, 'unixepoch') AS updated_at
                    FROM record WHERE kind = 'policy';
                    CREATE VIEW service_items AS SELECT
                        id, owner,
                        json_extract(doc, '$.status') AS status,
                        json_extract(doc, '$.code') AS code,
                        json_extract(doc, '$.name') AS name,
                        json_extract(doc, '$.department') AS department,
                        json_extract(doc, '$.region') AS region,
                        json_extract(doc, '$.handling_url') AS handling_url,
                        json_extract(doc, '$.time_limit_days') AS time_limit_days,
                        json_extract(doc, '$.fee') AS fee,
                        json_extract(doc, '$.materials') AS materials,
                        json_extract(doc, '$.policies') AS policies,
                        json_extract(doc, '$.themes') AS themes,
                        json_extract(doc, '$.audiences') AS audiences,
                        json_extract(doc, '$.tags') AS tags,
                        json_extract(doc, '$.body') AS body,
                        json_extract(doc, '$.eligibility') AS eligibility,
                        conflicts,
                        datetime(updated_at / 1000, 'unixepoch') AS updated_at
                    FROM record WHERE kind = 'service_item';
                    CREATE VIEW departments AS SELECT
                        id, owner AS node,
                        json_extract(doc, '$.name') AS name,
                        json_extract(doc, '$.status') AS status,
                        json_extract(doc, '$.seal_key') AS seal_key,
                        datetime(updated_at / 1000, 'unixepoch') AS updated_at
                    FROM record WHERE kind = 'department';
                    """)
        }
        m.registerMigration("v5-policy-validity") { db in
            // A policy's validity (现行有效, 尚未生效, 已失效) is computed from these two dates and
            // the day of the search, never stored: the search catalog needs them per row.
            try db.execute(
                sql: """
                    ALTER TABLE policy_index ADD COLUMN effective_from TEXT NOT NULL DEFAULT '';
                    ALTER TABLE policy_index ADD COLUMN effective_to TEXT NOT NULL DEFAULT '';
                    UPDATE policy_index SET
                        effective_from = coalesce((SELECT json_extract(r.doc, '$.effective_from') FROM record r
                                                   WHERE r.rowid = policy_index.rowid), ''),
                        effective_to = coalesce((SELECT json_extract(r.doc, '$.effective_to') FROM record r
                                                 WHERE r.rowid = policy_index.rowid), '');
                    """)
        }
        m.registerMigration("v6-idempotency") { db in
            // POST /api/v1/feedback with an Idempotency-Key, and the portal's feedback forms: the
            // first answer, kept so that a retry gets it again. Stored in the transaction of the
            // submission itself. Only hashes of the key and sealed answers: the answer holds the
            // receipt code, a secret, so it is encrypted with a key derived from the client's
            // Idempotency-Key, which this table never holds.
            try db.execute(
                sql: """
                    CREATE TABLE idempotency (
                        key_hash TEXT PRIMARY KEY CHECK (length(key_hash) = 64),
                        request_hash TEXT NOT NULL CHECK (length(request_hash) = 64),
                        sealed_response BLOB NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE INDEX idempotency_created ON idempotency(created_at);
                    """)
        }
        m.registerMigration("v7-search-index-file") { db in
            // The full-text index moves to its own file (`SearchIndexFile`): the replica keeps only
            // standard SQLite, and the index is rebuilt there from the records when the node opens.
            try db.execute(
                sql: """
                    DROP TABLE IF EXISTS main.text_fts;
                    ALTER TABLE node_state ADD COLUMN search_generation INTEGER NOT NULL DEFAULT 0;
                    """)
            // Survey responses ask for no answer: never due (ApplicationTimeline.dueOn), never overdue.
            try db.execute(sql: "UPDATE feedback_index SET due_on = '' WHERE form = 'survey'")
        }
        m.registerMigration("v8-delivery-withdrawn") { db in
            // A webhook not yet sent when its policy or service item is withdrawn is not sent
            // (`TongDatabase.cancelDeliveries`): state `withdrawn`. SQLite cannot change a CHECK
            // constraint in place, so the table is made again (SQLite's 12-step procedure; no
            // view, trigger or foreign key refers to it).
            try db.execute(
                sql: """
                    CREATE TABLE delivery_v8 (
                        id INTEGER PRIMARY KEY,
                        enterprise TEXT NOT NULL REFERENCES enterprise(id) ON DELETE CASCADE,
                        record TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        department TEXT NOT NULL,
                        version TEXT NOT NULL,
                        title TEXT NOT NULL,
                        offer INTEGER NOT NULL DEFAULT 0 CHECK (offer IN (0, 1)),
                        created_at INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'feed', 'withdrawn')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER,
                        last_error TEXT,
                        delivered_at INTEGER,
                        UNIQUE (enterprise, record, version)
                    );
                    INSERT INTO delivery_v8 SELECT * FROM delivery;
                    DROP TABLE delivery;
                    ALTER TABLE delivery_v8 RENAME TO delivery;
                    CREATE INDEX delivery_due ON delivery(next_attempt_at) WHERE state = 'pending';
                    CREATE INDEX delivery_enterprise ON delivery(enterprise, id);
                    CREATE INDEX delivery_record ON delivery(record, state);
                    UPDATE delivery SET state = 'withdrawn', next_attempt_at = NULL, last_error = 'withdrawn before delivery'
                    WHERE state = 'pending' AND record IN (
                        SELECT id FROM record WHERE kind IN ('policy', 'service_item') AND json_extract(doc, '$.status') = 'withdrawn');
                    """)
        }
        m.registerMigration("v9-revocation-lists") { db in
            // Every CA-signed revocation list the node has seen, kept for good: the trust state is
            // the union of all of them, so a node record that later carries an older list (a
            // genuine one, re-installed) cannot take back a revocation or its counter bound.
            try db.execute(
                sql: """
                    CREATE TABLE revocation_list (
                        id TEXT PRIMARY KEY,
                        wire TEXT NOT NULL,
                        issued_at INTEGER NOT NULL,
                        seen_at INTEGER NOT NULL
                    );
                    """)
        }
        return m
    }
}
