import Foundation
import GRDB
import Testing

@testable import TongCore
@testable import TongStore

/// The feedback index: inboxes, tallies and supervision figures read it instead of scanning
/// every record, and they are not capped at a department's oldest items.
@Suite struct FeedbackIndexTests {
    /// Feedback submitted at 330000 to one of its own departments (a route of one node).
    static func feedback(
        _ n: Int, dept: String = "330000-hrss", form: String = "consultation", survey: String? = nil,
        fields extra: [String: JSONValue] = [:]
    ) -> LocalWrite {
        var f: [String: JSONValue] = [
            "form": .string(form), "department": .string(dept), "about": "社保", "sealed": "x",
            "submitted_at": .string(String(format: "2026-01-01T00:%02d:%02d.000Z", n / 60, n % 60)),
        ]
        if let survey { f["survey"] = .string(survey) }
        for (k, v) in extra { f[k] = v }
        return LocalWrite(
            id: "330000-f\(n)", kind: .feedback, owner: "330000", scope: .route(from: "330000", to: "330000"),
            fields: f, mustExist: false)
    }

    static func write(_ db: TongDatabase, _ w: [LocalWrite], now: Int64 = 2) throws {
        _ = try db.write(w, signer: signer("330000"), topology: storeTopology, now: now)
    }

    @Test func openItemsComeFirstWhateverTheHistory() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        // 40 old items, all closed, then 3 new open ones.
        try Self.write(db, (0..<40).map { Self.feedback($0, fields: ["status": "closed", "replied_at": "2026-01-02T00:00:00.000Z"]) })
        try Self.write(db, (40..<43).map { Self.feedback($0) })
        let page = try db.feedback(department: "330000-hrss", limit: 10)
        #expect(page.count == 10)
        #expect(page.prefix(3).map(\.state.id) == ["330000-f42", "330000-f41", "330000-f40"])
        #expect(page.dropFirst(3).allSatisfy { $0.state["status"] == "closed" })
        #expect(try db.feedback(department: "330000-hrss", status: "closed", limit: 1_000).count == 40)
        #expect(
            try db.feedback(department: "330000-hrss", status: "submitted").map(\.state.id).sorted() == ["330000-f40", "330000-f41", "330000-f42"])
        #expect(try db.feedback(department: "330000-other").isEmpty)
        // A later status change moves an item between open and closed.
        try Self.write(
            db,
            [
                LocalWrite(
                    id: "330000-f41", kind: .feedback, owner: "330000", scope: .route(from: "330000", to: "330000"),
                    fields: ["status": "replied", "replied_at": "2026-01-03T00:00:00.000Z"])
            ], now: 3)
        #expect(try db.feedback(department: "330000-hrss", limit: 3).map(\.state.id) == ["330000-f42", "330000-f40", "330000-f41"])
    }

    @Test func undeliveredIsExactlyThisNodesUnacknowledgedItems() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        try Self.write(db, [Self.feedback(1), Self.feedback(2), Self.feedback(3, fields: ["status": "delivered", "due_on": "2026-01-10"])])
        #expect(try db.undelivered(departmentsOf: "330000").map(\.state.id) == ["330000-f1", "330000-f2"])
        #expect(try db.undelivered(departmentsOf: "330100").isEmpty)
        #expect(try db.undelivered(departmentsOf: "33000").isEmpty)
    }

    @Test func figuresAndStreamsCoverEveryItem() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        var writes: [LocalWrite] = []
        for i in 0..<1_200 {
            switch i % 4 {
            case 0: writes.append(Self.feedback(i, fields: ["status": "delivered", "due_on": "2026-01-05"]))
            case 1: writes.append(Self.feedback(i, fields: ["status": "delivered", "due_on": "2026-03-01"]))
            case 2: writes.append(Self.feedback(i, fields: ["status": "replied", "due_on": "2026-01-05", "replied_at": "2026-01-04T00:00:00.000Z"]))
            default: writes.append(Self.feedback(i, form: "survey_response", survey: i % 8 == 3 ? "330000-s1" : "330000-s2"))
            }
        }
        try Self.write(db, writes)
        let f = try db.feedbackFigures(department: "330000-hrss", today: "2026-02-01")
        #expect(f.byStatus == ["delivered": 600, "replied": 300, "submitted": 300])
        #expect(f.overdue == 300)  // due 01-05, still open on 02-01; the replied ones are not overdue
        #expect(f.answers.count == 300)
        var responses = 0
        try db.eachFeedback(department: "330000-hrss", survey: "330000-s1") { r in
            #expect(r.state["survey"] == "330000-s1")
            responses += 1
        }
        #expect(responses == 150)  // beyond the old cap of the oldest 1,000 items
        var surveyForm = 0
        try db.eachFeedback(department: "330000-hrss", form: "survey_response") { _ in surveyForm += 1 }
        #expect(surveyForm == 300)
    }

    @Test func anExistingFileIsIndexedWhenItMigrates() throws {
        let path = tempDir() + "/t.sqlite"
        do {
            let db = try TongDatabase(path: path, nodeID: "330000", now: 1)
            try Self.write(db, [Self.feedback(1), Self.feedback(2, survey: "330000-s1", fields: ["status": "closed"])])
            try db.close()
        }
        // Make the file what a node of the first release left behind: no feedback index yet.
        let q = try DatabaseQueue(path: path)
        try q.write { db in
            try db.execute(sql: "DROP TABLE feedback_index; DELETE FROM grdb_migrations WHERE identifier = 'v2-feedback-index'")
        }
        try q.close()
        let db = try TongDatabase(path: path, nodeID: "330000", now: 3)
        #expect(try db.feedback(department: "330000-hrss").map(\.state.id) == ["330000-f1", "330000-f2"])
        #expect(try db.undelivered(departmentsOf: "330000").map(\.state.id) == ["330000-f1"])
        var n = 0
        try db.eachFeedback(department: "330000-hrss", survey: "330000-s1") { _ in n += 1 }
        #expect(n == 1)
    }
}
