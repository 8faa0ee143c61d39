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
        m.registerMigration("v5-search-external-content") { db in
            // The full-text index stops keeping its own copy of the text: FTS5 reads a page's
            // titles and bodies (highlight, snippet) from `record.doc` through a view, and keeps
            // only the index and the per-row token counts (docs/architecture.md, "Full text").
            // The view yields exactly what Projection indexes: title (a service item's name),
            // document number (its code), body, tags joined by spaces (`tong_tags`), for the rows
            // that are indexed (a text title), so FTS5 can remove a row's old tokens by reading it.
            try db.execute(
                sql: """
                    DROP TABLE text_fts;
                    CREATE VIEW text_fts_source AS SELECT
                        rowid AS rid,
                        json_extract(doc, CASE kind WHEN 'policy' THEN '$.title' ELSE '$.name' END) AS title,
                        CASE json_type(doc, CASE kind WHEN 'policy' THEN '$.doc_number' ELSE '$.code' END)
                            WHEN 'text' THEN json_extract(doc, CASE kind WHEN 'policy' THEN '$.doc_number' ELSE '$.code' END)
                            ELSE '' END AS doc_number,
                        CASE json_type(doc, '$.body') WHEN 'text' THEN json_extract(doc, '$.body') ELSE '' END AS body,
                        tong_tags(json_extract(doc, '$.tags')) AS tags
                    FROM record
                    WHERE kind IN ('policy', 'service_item')
                        AND json_type(doc, CASE kind WHEN 'policy' THEN '$.title' ELSE '$.name' END) = 'text';
                    CREATE VIRTUAL TABLE text_fts USING fts5(
                        title, doc_number, body, tags, tokenize='tong_bigram', content='text_fts_source', content_rowid='rid');
                    -- Pending index data up to 64 MiB before FTS5 writes a segment (default 1 MiB): a
                    -- pushed batch becomes one segment at its commit instead of one per MiB, so
                    -- there are fewer segments to merge. It is memory only while a write is open.
                    INSERT INTO text_fts (text_fts, rank) VALUES ('hashsize', 67108864);
                    INSERT INTO text_fts (text_fts) VALUES ('rebuild');
                    """)
        }
        return m
    }
}
