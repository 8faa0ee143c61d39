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

    /// The text indexed for tags: the strings of a JSON array joined by spaces ("" for anything else).
    static func tags(_ v: JSONValue?) -> String { (v?.stringArray ?? []).joined(separator: " ") }

    /// `tong_tags(json)`: `tags` over a JSON text, for the full-text table's source view.
    static let tagsFunction = DatabaseFunction("tong_tags", argumentCount: 1, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]), let v = try? JSONParser.parse(Array(text.utf8)) else { return "" }
        return tags(v)
    }

    /// Removes a record's row from the full-text index. With external content FTS5 finds the
    /// tokens to remove by reading the row's current text from `text_fts_source`, so this must
    /// run before the record row changes; a row that was never indexed is not in the view, and
    /// FTS5 then removes nothing.
    static func unindex(_ db: Database, rowid: Int64) throws {
        try db.cachedStatement(sql: "DELETE FROM text_fts WHERE rowid = ?").execute(arguments: [rowid])
    }

    /// Rewrites the projection rows of one record. An existing record's full-text row was
    /// already removed by `save` (`unindex`, before the record row changed); `isNew` is kept for
    /// callers and says whether the record was just created.
    ///
    /// The index rows are upserts, never `INSERT OR REPLACE`: a REPLACE (which may delete a row
    /// under a foreign key) runs in a statement journal, and opening one makes SQLite call every
    /// virtual table's xSavepoint; FTS5 answers that by flushing its pending index data into a
    /// new segment. Per record, that made applying a backlog three times slower.
    static func write(_ db: Database, rowid: Int64, record r: RecordState, isNew: Bool, catalog: SearchCatalog) throws {
        let v = r.values
        switch r.kind {
        case .policy, .serviceItem:
            let isPolicy = r.kind == .policy
            // A record can be incomplete when an edit overtook its creation after a restore;
            // it becomes searchable once its title (a service item's name) arrives.
            guard let title = v[isPolicy ? "title" : "name"]?.stringValue else { return }
            let region = v["region"]?.stringValue ?? r.owner, department = v["department"]?.stringValue ?? ""
            let themes = themeMask(v["themes"]), audiences = audienceMask(v["audiences"]), status = status(v)
            let issuedOn = isPolicy ? v["issued_on"]?.stringValue ?? "" : ""
            if isPolicy {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO policy_index (rowid, region, department, themes, audiences, status, issued_on) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (rowid) DO UPDATE SET region = excluded.region, department = excluded.department, themes = excluded.themes,
                            audiences = excluded.audiences, status = excluded.status, issued_on = excluded.issued_on
                        """
                ).execute(arguments: [rowid, region, department, themes, audiences, status, issuedOn])
            } else {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO service_index (rowid, region, department, themes, audiences, status) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (rowid) DO UPDATE SET region = excluded.region, department = excluded.department, themes = excluded.themes,
                            audiences = excluded.audiences, status = excluded.status
                        """
                ).execute(arguments: [rowid, region, department, themes, audiences, status])
            }
            // Full-text columns: title, document number (a service item's code), body, tags.
            try db.cachedStatement(sql: "INSERT INTO text_fts (rowid, title, doc_number, body, tags) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [
                    rowid, title, v[isPolicy ? "doc_number" : "code"]?.stringValue ?? "", v["body"]?.stringValue ?? "",
                    tags(v["tags"]),
                ])
            try catalog.stage(
                db, rowid: rowid, kind: r.kind, region: region, department: department, themes: themes,
                audiences: audiences, status: status, issuedOn: issuedOn)
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
