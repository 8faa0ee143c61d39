import Foundation
import Testing

@testable import TongCore
@testable import TongStore

/// A certified node is not trusted blindly: what it sends is checked like a local write, and its
/// counters must move forward along the tree's single path (issue: trust that lasts for years).
@Suite struct ReceivedContentTests {
    static func change(_ counter: UInt64, _ id: String, _ fields: [String: JSONValue]) -> Change {
        Change(record: id, kind: .policy, owner: "330000", counter: counter, at: 1, context: VersionVector(), fields: fields)
    }

    static let good: [String: JSONValue] = [
        "title": "稳岗返还", "department": "330000-hrss", "region": "330000", "issued_on": "2022-05-01", "effective_from": "2022-05-01",
        "themes": ["stabilize_jobs"], "tags": [], "audiences": ["micro"], "body": "返还失业保险费", "doc_number": "", "status": "active",
    ]

    /// Applies one signed set pushed by 330000 at the national node; returns the rejection reason, if any.
    static func push(_ db: TongDatabase, _ s: ChangeSigner, after: Int64, _ changes: [Change]) throws -> String? {
        let signed = try s.sign(ChangeSet(origin: "330000", scope: .owned("330000"), createdAt: 1, changes: changes))
        let r = try db.apply(batch: [IncomingSet(signed: signed, verdict: .accepted)], from: "330000", epoch: "e", after: after,
                             upto: after + 1, topology: storeTopology, now: 2)
        return r.rejected.first?.reason
    }

    @Test func wronglyTypedOversizedOrUnsafeChangesAreRejectedWhole() throws {
        let db = try TongDatabase(path: tempDir() + "/r.sqlite", nodeID: "100000", now: 1)
        let s = signer("330000")
        var bad: [[String: JSONValue]] = []
        var typed = Self.good; typed["title"] = 12345; bad.append(typed)
        var region = Self.good; region["region"] = ["x": [1, 2]]; bad.append(region)
        var js = Self.good; js["source_url"] = "javascript:alert(1)"; bad.append(js)
        var huge = Self.good; huge["body"] = .string(String(repeating: "长", count: 4_900_000)); bad.append(huge)
        var unknown = Self.good; unknown["owner_note"] = "?"; bad.append(unknown)
        for (k, fields) in bad.enumerated() {
            // One good change and one bad one in the same set: neither is stored.
            let why = try Self.push(db, s, after: Int64(k), [Self.change(UInt64(2 * k + 1), "330000-p\(2 * k + 1)", Self.good),
                                                             Self.change(UInt64(2 * k + 2), "330000-p\(2 * k + 2)", fields)])
            #expect(why?.contains("content") == true, "\(k): \(why ?? "accepted")")
            #expect(try db.record("330000-p\(2 * k + 1)") == nil)
            #expect(try db.record("330000-p\(2 * k + 2)") == nil)
        }
        #expect(try db.syncCounts().rejected == bad.count)
        #expect(try db.head() == 0)
        // The good change alone applies.
        #expect(try Self.push(db, s, after: Int64(bad.count), [Self.change(100, "330000-p100", Self.good)]) == nil)
        #expect(try db.record("330000-p100") != nil)
    }

    @Test func countersMoveForwardAndEquivocationIsRejectedNamingBothSets() throws {
        let db = try TongDatabase(path: tempDir() + "/r.sqlite", nodeID: "100000", now: 1)
        let s = signer("330000")
        #expect(try Self.push(db, s, after: 0, [Self.change(5, "330000-p5", Self.good)]) == nil)
        // A different set claiming counter 5 again: an equivocation, named with the set it contradicts.
        var other = Self.good; other["title"] = "另一个版本"
        let why = try #require(try Self.push(db, s, after: 1, [Self.change(5, "330000-p5", other)]))
        #expect(why.contains("equivocation") && why.contains("already applied"))
        let firstID = try #require(try db.rejections().first?.reason.split(separator: " ").dropFirst(4).first)
        #expect(!firstID.isEmpty)
        #expect(try db.record("330000-p5")?.state["title"] == "稳岗返还")
        // Far ahead: 10^15 would shadow every later genuine write for good.
        let far = try #require(try Self.push(db, s, after: 2, [Self.change(1_000_000_000_000_000, "330000-p6", Self.good)]))
        #expect(far.contains("beyond"))
        #expect(try db.record("330000-p6") == nil)
        // An implausible jump above what was applied, though under the absolute bound.
        let jump = try #require(try Self.push(db, s, after: 3, [Self.change(5 + (1 << 33), "330000-p7", Self.good)]))
        #expect(jump.contains("implausibly"))
        // The genuine next write still applies.
        #expect(try Self.push(db, s, after: 4, [Self.change(6, "330000-p6", Self.good)]) == nil)
        #expect(try db.record("330000-p6") != nil)
    }
}
