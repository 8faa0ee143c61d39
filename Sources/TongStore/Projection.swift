import GRDB
import TongCore

/// Keeps the search projections (index tables and full-text) of policies and service items in
/// step with their records, inside the same transaction.
enum Projection {
    static func themeMask(_ v: JSONValue?) -> Int64 {
        (v?.stringArray ?? []).reduce(0) { $0 | Int64(Theme(rawValue: $1)?.bit ?? 0) }
    }

    static func audienceMask(_ v: JSONValue?) -> Int64 {
        (v?.stringArray ?? []).reduce(0) { $0 | Int64(Audience(rawValue: $1)?.bit ?? 0) }
    }

    static func status(_ v: [String: JSONValue]) -> String { v["status"]?.stringValue == "withdrawn" ? "withdrawn" : "active" }

    /// What search filters on, read once per record: for the projection row, the catalog entry
    /// and the full-text row's hidden filter tokens (`SearchFacets`).
    struct Filters {
        var region: String, department: String, themes: Int64, audiences: Int64
        init(_ r: RecordState) {
            let v = r.values
            region = v["region"]?.stringValue ?? r.owner
            department = v["department"]?.stringValue ?? ""
            themes = Projection.themeMask(v["themes"])
            audiences = Projection.audienceMask(v["audiences"])
        }
    }

    /// The visible full-text columns of a policy or service item, exactly as indexed: title (a
    /// service item's name), document number (its code), body and tags (space-separated); nil
    /// without a title.
    static func searchText(_ r: RecordState) -> (title: String, docNumber: String, body: String, tags: String)? {
        let v = r.values, isPolicy = r.kind == .policy
        guard let title = v[isPolicy ? "title" : "name"]?.stringValue else { return nil }
        return (
            title, v[isPolicy ? "doc_number" : "code"]?.stringValue ?? "", v["body"]?.stringValue ?? "",
            (v["tags"]?.stringArray ?? []).joined(separator: " ")
        )
    }

    /// Rewrites the full-text row of a policy or service item (in the attached index file):
    /// title (a service item's name), document number (its code), body, tags.
    /// - Returns: false, writing nothing, for a record without its title yet (an edit that
    ///   overtook its creation after a restore); it becomes searchable once the title arrives.
    /// With `job`, the row goes to the index file's own writer (`SearchIndexJob`) instead.
    /// `previous` is the record as it was before this change (nil for a new record): the
    /// index keeps no copy of the text, so the old row is deleted by its old values.
    static func writeText(
        _ db: Database, rowid: Int64, record r: RecordState, previous: RecordState?, filters: Filters? = nil, job: SearchIndexJob? = nil
    ) throws -> Bool {
        guard let columns = textColumns(r, filters: filters) else { return false }
        let old = previous.flatMap { textColumns($0) }
        if let job {
            job.add(SearchIndexJob.Text(rowid: rowid, columns: columns, old: old))
            return true
        }
        try replaceText(db, rowid: rowid, columns, old: old)
        return true
    }

    /// The full-text row of a record as indexed, nil for one without a title (not indexed).
    static func textColumns(_ r: RecordState, filters: Filters? = nil) -> SearchIndexJob.Text.Columns? {
        guard let visible = searchText(r) else { return nil }
        let f = filters ?? Filters(r)
        return .init(
            title: visible.title, docNumber: visible.docNumber, body: visible.body, tags: visible.tags,
            facets: SearchFacets.document(region: f.region, department: f.department, themes: f.themes, audiences: f.audiences))
    }

    /// Replaces a row of the contentless `text_fts`: FTS5's `'delete'` command with the values
    /// the row was indexed with (`old`; exactly those, or the index keeps stale tokens), then
    /// the new row. `db` is a connection where `text_fts` resolves to the index (the replica's
    /// writer with the file attached, or the index writer's own).
    static func replaceText(_ db: Database, rowid: Int64, _ columns: SearchIndexJob.Text.Columns, old: SearchIndexJob.Text.Columns?) throws {
        // In the same transaction: the sealed postings that hold this row no longer answer for it.
        try PostingsSegment.markStale(db, rowid: rowid)
        if let old {
            try db.cachedStatement(
                sql: "INSERT INTO text_fts (text_fts, rowid, title, doc_number, body, tags, facets) VALUES ('delete', ?, ?, ?, ?, ?, ?)"
            ).execute(arguments: old.arguments(rowid))
        }
        try db.cachedStatement(sql: "INSERT INTO text_fts (rowid, title, doc_number, body, tags, facets) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: columns.arguments(rowid))
    }

    /// Rewrites the projection rows of one record; `previous` is the record before this change
    /// (nil when it is new), whose full-text row is replaced.
    ///
    /// The index rows are upserts, never `INSERT OR REPLACE`: a REPLACE (which may delete a row
    /// under a foreign key) runs in a statement journal, and opening one makes SQLite call every
    /// virtual table's xSavepoint; FTS5 answers that by flushing its pending index data into a
    /// new segment. Per record, that made applying a backlog three times slower.
    ///
    /// With `job` (a received batch), the full-text row and the catalog entry wait for the index
    /// file's own writer (`SearchIndexJob`); the projection tables are written here as always.
    static func write(
        _ db: Database, rowid: Int64, record r: RecordState, previous: RecordState?, catalog: SearchCatalog, job: SearchIndexJob? = nil
    ) throws {
        let v = r.values
        switch r.kind {
        case .policy, .serviceItem:
            let isPolicy = r.kind == .policy
            // A record can be incomplete when an edit overtook its creation after a restore;
            // it becomes searchable once its title (a service item's name) arrives.
            let filters = Filters(r)
            guard try writeText(db, rowid: rowid, record: r, previous: previous, filters: filters, job: job) else { return }
            let region = filters.region, department = filters.department
            let themes = filters.themes, audiences = filters.audiences, status = status(v)
            let issuedOn = isPolicy ? v["issued_on"]?.stringValue ?? "" : ""
            let validity = PolicyValidity(from: v["effective_from"]?.stringValue ?? "", to: v["effective_to"]?.stringValue ?? "")
            if isPolicy {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO policy_index (rowid, region, department, themes, audiences, status, issued_on, effective_from, effective_to)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (rowid) DO UPDATE SET region = excluded.region, department = excluded.department, themes = excluded.themes,
                            audiences = excluded.audiences, status = excluded.status, issued_on = excluded.issued_on,
                            effective_from = excluded.effective_from, effective_to = excluded.effective_to
                        """
                ).execute(arguments: [rowid, region, department, themes, audiences, status, issuedOn, validity.from, validity.to])
            } else {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO service_index (rowid, region, department, themes, audiences, status) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (rowid) DO UPDATE SET region = excluded.region, department = excluded.department, themes = excluded.themes,
                            audiences = excluded.audiences, status = excluded.status
                        """
                ).execute(arguments: [rowid, region, department, themes, audiences, status])
            }
            if let job {
                job.stage(
                    .init(
                        rowid: rowid, kind: r.kind, region: region, department: department, themes: themes, audiences: audiences,
                        status: status, issuedOn: issuedOn, validity: isPolicy ? validity : PolicyValidity(from: "", to: "")))
            } else if try catalog.stage(
                db, rowid: rowid, kind: r.kind, region: region, department: department, themes: themes,
                audiences: audiences, status: status, issuedOn: issuedOn, validity: isPolicy ? validity : PolicyValidity(from: "", to: ""))
            {
                try SearchIndexFile.touch(db)  // the first change to the index in this transaction
            }
        case .feedback:
            let status = ApplicationTimeline.indexedStatus(v)
            let survey = v["survey"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            try db.cachedStatement(
                sql: """
                    INSERT INTO feedback_index (rowid, department, status, open, form, survey, submitted_at, due_on, replied_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (rowid) DO UPDATE SET department = excluded.department, status = excluded.status, open = excluded.open,
                        form = excluded.form, survey = excluded.survey, submitted_at = excluded.submitted_at, due_on = excluded.due_on,
                        replied_at = excluded.replied_at
                    """
            ).execute(arguments: [
                rowid, v["department"]?.stringValue ?? "", status, FeedbackFields.isOpen(status: status) ? 1 : 0,
                v["form"]?.stringValue ?? "", survey, v["submitted_at"]?.stringValue ?? "", ApplicationTimeline.dueOn(v),
                v["replied_at"]?.stringValue ?? "",
            ])
        default:
            return
        }
    }
}
