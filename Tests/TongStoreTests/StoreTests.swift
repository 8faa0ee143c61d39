import Crypto
import Foundation
import GRDB
import Testing

@testable import TongCore
@testable import TongStore

func tempDir() -> String {
    let d = NSTemporaryDirectory() + "tong-store-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

let storeTopology = try! Topology.parse(
    toml: """
        federation = "t"
        [[node]]
        id = "100000"
        name = "国家"
        [[node.department]]
        id = "100000-mof"
        name = "财政部"
        [[node]]
        id = "330000"
        name = "浙江"
        parent = "100000"
        [[node.department]]
        id = "330000-hrss"
        name = "浙江人社"
        [[node]]
        id = "320000"
        name = "江苏"
        parent = "100000"
        """)

func signer(_ node: String) -> ChangeSigner {
    ChangeSigner(nodeID: node, key: P256.Signing.PrivateKey(), certificateDER: [1, 2, 3])
}

func policy(_ title: String, body: String, themes: [String] = ["social_insurance"], dept: String = "330000-hrss", region: String = "330000")
    -> LocalWrite
{
    LocalWrite(
        id: nil, kind: .policy, owner: String(dept.prefix(6)), scope: .owned(String(dept.prefix(6))),
        fields: [
            "title": .string(title), "body": .string(body), "department": .string(dept), "region": .string(region),
            "themes": .strings(themes), "tags": ["小微企业"], "audiences": ["micro"], "issued_on": "2022-05-01", "doc_number": "浙人社发〔2022〕20号",
            "status": "active",
        ])
}

@Suite struct StoreTests {
    @Test func migratesAFreshAndAnExistingFile() throws {
        let dir = tempDir()
        let path = dir + "/t.sqlite"
        do {
            let db = try TongDatabase(path: path, nodeID: "330000", now: 1)
            _ = try db.write([policy("旧数据", body: "缓缴社保费")], signer: signer("330000"), topology: storeTopology, now: 2)
            try db.close()
        }
        // Reopening runs the migrator again on an existing file: nothing lost, nothing re-run.
        let db = try TongDatabase(path: path, nodeID: "330000", now: 3)
        #expect(try db.search(SearchRequest()).total == 1)
        #expect(try db.state().counter == 1)
        // The file belongs to its node.
        #expect(throws: StoreError.self) { _ = try TongDatabase(path: path, nodeID: "320000", now: 4) }
        // Journal mode is WAL and foreign keys are on.
        let q = try DatabaseQueue(path: path)
        #expect(try q.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test func twoCharacterChineseFindsLongerWordsAndFacetsCount() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        _ = try db.write(
            [
                policy("关于阶段性缓缴社会保险费的通知", body: "中小微企业可申请缓缴社保费。"),
                policy("稳岗返还", body: "失业保险稳岗返还 VAT 2020", themes: ["stabilize_jobs"]),
                policy("租金减免", body: "减免房屋租金", themes: ["rent_relief", "social_insurance"], region: "330100"),
            ], signer: signer("330000"), topology: storeTopology, now: 5)
        var q = SearchRequest()
        q.q = "社保"
        let r = try db.search(q)
        #expect(r.total == 1)
        #expect(r.hits.first?.record.state["title"] == "关于阶段性缓缴社会保险费的通知")
        #expect(r.hits.first?.snippetMarked?.contains("\u{E000}社保\u{E001}") == true)
        q.q = "vat 2020"
        #expect(try db.search(q).total == 1)
        q.q = "\" OR * NEAR( title:社保 \u{0}" + String(repeating: "字", count: 5_000)
        _ = try db.search(q)  // any string is safe
        var all = SearchRequest()
        all.region = "330000"  // the province covers its city
        let facets = try db.search(all)
        #expect(facets.total == 3)
        #expect(facets.themeFacets["social_insurance"] == 2)
        #expect(facets.regionFacets["330100"] == 1)
        all.theme = "rent_relief"
        #expect(try db.search(all).total == 1)
        // A county code matches exactly that county (the range's upper bound must not be cut at a NUL).
        _ = try db.write(
            [policy("西湖区补贴", body: "水电气", themes: ["utilities"], region: "330106")], signer: signer("330000"), topology: storeTopology, now: 6)
        var county = SearchRequest()
        county.region = "330106"
        #expect(try db.search(county).total == 1)
        county.region = "330100"
        #expect(try db.search(county).total == 2)
    }

    @Test func aRejectedLocalWriteChangesNothing() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        // The second write breaks authority (a department of another node): the whole batch rolls back.
        var bad = policy("坏", body: "x")
        bad.fields["department"] = "320000-dof"
        #expect(throws: StoreError.self) {
            _ = try db.write([policy("好", body: "y"), bad], signer: signer("330000"), topology: storeTopology, now: 2)
        }
        #expect(try db.search(SearchRequest()).total == 0)
        #expect(try db.head() == 0)
        #expect(try db.state().counter == 0)
    }

    @Test func batchesApplyAtTheCursorOnlyAndBadSetsAreRejectedWhole() throws {
        let sender = try TongDatabase(path: tempDir() + "/s.sqlite", nodeID: "330000", now: 1)
        let receiver = try TongDatabase(path: tempDir() + "/r.sqlite", nodeID: "100000", now: 1)
        _ = try sender.write([policy("一", body: "社保")], signer: signer("330000"), topology: storeTopology, now: 2)
        _ = try sender.write([policy("二", body: "稳岗")], signer: signer("330000"), topology: storeTopology, now: 3)
        let out = try sender.outgoing(to: "100000", after: 0, topology: storeTopology)
        #expect(out.sets.count == 2)
        let sets = try out.sets.map { SignedChangeSet(wire: try JSONParser.parse($0))! }
        // A batch that does not start at the receiver's cursor is refused, nothing applied.
        let refused = try receiver.apply(
            batch: sets.map { IncomingSet(signed: $0, verdict: .accepted) }, from: "330000", epoch: "e", after: 1, upto: 2, topology: storeTopology,
            now: 5)
        #expect(!refused.accepted)
        #expect(try receiver.search(SearchRequest()).total == 0)
        // One good, one rejected by the verifier: the good one applies, the bad one is counted.
        let ok = try receiver.apply(
            batch: [IncomingSet(signed: sets[0], verdict: .accepted), IncomingSet(signed: sets[1], verdict: .rejected("bad signature"))],
            from: "330000", epoch: "e", after: 0, upto: 2, topology: storeTopology, now: 6)
        #expect(ok.accepted && ok.applied == 1 && ok.rejected.count == 1)
        #expect(try receiver.search(SearchRequest()).total == 1)
        #expect(try receiver.cursor(of: "330000") == Cursor(epoch: "e", seq: 2))
        #expect(try receiver.syncCounts().rejected == 1)
        // Redelivery after a reset is idempotent.
        let again = try receiver.apply(
            batch: [IncomingSet(signed: sets[0], verdict: .accepted)], from: "330000", epoch: "e2", after: 0, upto: 1, topology: storeTopology, now: 7
        )
        #expect(again.accepted && again.duplicates == 1 && again.applied == 0)
        // What came from a peer is never sent back to it, but is forwarded to others.
        #expect(try receiver.outgoing(to: "330000", after: 0, topology: storeTopology).sets.isEmpty)
        #expect(try receiver.outgoing(to: "320000", after: 0, topology: storeTopology).sets.isEmpty)  // not 320000's to hold
    }

    @Test func onlyTheOwnerCreatesItsRecordsAtTheOwner() throws {
        let owner = try TongDatabase(path: tempDir() + "/o.sqlite", nodeID: "330000", now: 1)
        let squat = ChangeSet(
            origin: "100000", scope: .owned("330000"), createdAt: 1,
            changes: [
                Change(record: "330000-p2", kind: .policy, owner: "330000", counter: 5, at: 1, context: VersionVector(), fields: ["tags": ["占位"]])
            ])
        let signed = try signer("100000").sign(squat)
        let r = try owner.apply(
            batch: [IncomingSet(signed: signed, verdict: .accepted)], from: "100000", epoch: "e", after: 0, upto: 1, topology: storeTopology, now: 2)
        #expect(r.rejected.count == 1 && r.applied == 0)
        #expect(try owner.record("330000-p2") == nil)
        // The owner's own next record takes that id cleanly.
        let made = try owner.write([policy("自己的", body: "x")], signer: signer("330000"), topology: storeTopology, now: 3)
        #expect(made.first?.id == "330000-p1")
    }

    @Test func recordCodecRoundTripsConflicts() throws {
        var r = RecordState(id: "330000-p1", kind: .policy, owner: "330000")
        r.apply(
            Change(
                record: r.id, kind: .policy, owner: "330000", counter: 1, at: 1, context: VersionVector(),
                fields: ["title": "a", "themes": ["other"]]), origin: "330000")
        let base = r.version
        r.apply(
            Change(record: r.id, kind: .policy, owner: "330000", counter: 2, at: 5, context: base, fields: ["themes": ["utilities"]]),
            origin: "330000")
        r.apply(
            Change(record: r.id, kind: .policy, owner: "330000", counter: 9, at: 4, context: base, fields: ["themes": ["rent_relief"]]),
            origin: "100000")
        let cols = RecordCodec.encode(r)
        let back = try RecordCodec.decode(id: r.id, kind: .policy, owner: "330000", columns: cols)
        #expect(back == r)
        #expect(back.conflicts.count == 1)
    }
}

@Suite struct DeliveryMigrationTests {
    /// Migration v8: a node of the previous release may hold webhooks still pending for a policy
    /// already withdrawn; upgrading withdraws them (and only them) instead of sending them.
    @Test func upgradingWithdrawsPendingWebhooksOfWithdrawnPolicies() throws {
        let path = tempDir() + "/t.sqlite"
        var withdrawn = policy("已废止的房租补贴", body: "房租补贴")
        withdrawn.fields["status"] = "withdrawn"
        let ids: [String]
        do {
            let db = try TongDatabase(path: path, nodeID: "330000", now: 1)
            ids = try db.write([withdrawn, policy("仍有效的房租补贴", body: "房租补贴")], signer: signer("330000"), topology: storeTopology, now: 2)
                .map(\.id)
            try db.close()
        }
        // The file as the previous release left it: the old table (no 'withdrawn' state), both webhooks pending.
        let q = try DatabaseQueue(path: path)
        try q.write { d in
            try d.execute(
                sql: """
                    INSERT INTO enterprise VALUES ('330000-e1', '91330106MA2B123456', 'h', '杭州小馆', '330106', 'H62', 5, 100, 50,
                        '2020-01-01', 'small_scale', 'micro', '{}', 'https://example.com/hook', 'whsec_x', 1, 1);
                    DROP TABLE delivery;
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY, enterprise TEXT NOT NULL REFERENCES enterprise(id) ON DELETE CASCADE, record TEXT NOT NULL,
                        kind TEXT NOT NULL, department TEXT NOT NULL, version TEXT NOT NULL, title TEXT NOT NULL,
                        offer INTEGER NOT NULL DEFAULT 0 CHECK (offer IN (0, 1)), created_at INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'feed')), attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER, last_error TEXT, delivered_at INTEGER, UNIQUE (enterprise, record, version));
                    DELETE FROM grdb_migrations WHERE identifier = 'v8-delivery-withdrawn';
                    """)
            for id in ids {
                try d.execute(
                    sql: """
                        INSERT INTO delivery (enterprise, record, kind, department, version, title, created_at, state, attempts, next_attempt_at)
                        VALUES ('330000-e1', ?, 'policy', '330000-hrss', '{}', '补贴', 3, 'pending', 4, 5)
                        """, arguments: [id])
            }
        }
        try q.close()
        let db = try TongDatabase(path: path, nodeID: "330000", now: 6)
        defer { try? db.close() }
        let states = Dictionary(uniqueKeysWithValues: try db.deliveries(enterprise: "330000-e1").map { ($0.record, $0.state) })
        #expect(states == [ids[0]: "withdrawn", ids[1]: "pending"])
        #expect(try db.dueDeliveries(now: 10, limit: 10).map(\.record) == [ids[1]])
        // Supervision counts a withdrawn webhook as neither made, failed nor retried.
        let figures = Dictionary(uniqueKeysWithValues: try db.deliveryFigures().map { ($0.record, $0.webhooks) })
        #expect(figures == [ids[0]: 0, ids[1]: 1])
        // A failed attempt in flight at the withdrawal leaves it withdrawn; one the receiver took counts as made.
        let first = try #require(try db.deliveries(enterprise: "330000-e1").first { $0.record == ids[0] })
        try db.recordAttempt(first.id, outcome: .retry(at: 12, error: "503"), now: 11)
        #expect(try db.deliveries(enterprise: "330000-e1").first { $0.record == ids[0] }?.state == "withdrawn")
        try db.recordAttempt(first.id, outcome: .delivered, now: 13)
        #expect(try db.deliveries(enterprise: "330000-e1").first { $0.record == ids[0] }?.state == "delivered")
    }
}
