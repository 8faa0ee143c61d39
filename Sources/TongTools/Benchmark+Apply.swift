import Crypto
import Foundation
import TongCore
import TongDomain
import TongPeer
import TongStore

extension Benchmark {
    /// What the apply scenario measured.
    struct ApplyFigures: Sendable {
        var records: Int
        var sets: Int
        var pushes: Int
        var seconds: Double
        var baselineSeconds: Double
        var wireBytes: Int
        /// The receiver's database file and WAL after a truncating checkpoint, bytes.
        var diskBytes: Int = 0
        /// The largest tables and indexes of the receiver's file (`dbstat`), bytes.
        var diskTables: [(name: String, bytes: Int)] = []
        /// PostgreSQL logical replication of the same rows (nil unless asked for).
        var postgres: PostgresOutcome?
        var bytesPerRecord: Double { Double(diskBytes) / Double(records) }
        var recordsPerSecond: Double { Double(records) / seconds }
        var baselinePerSecond: Double { Double(records) / baselineSeconds }
        var ratio: Double { recordsPerSecond / baselinePerSecond }
        var wireBytesPerChange: Double { Double(wireBytes) / Double(records) }
    }

    /// The `apply_pg` figure: measured, or skipped with the reason.
    enum PostgresOutcome: Sendable {
        case measured(PostgresReplica.Figures)
        case skipped(String)
    }

    static let applyTopology = """
        federation = "bench"

        [[node]]
        id = "100000"
        name = "国家政务服务平台"

        [[node]]
        id = "330000"
        name = "浙江省"
        parent = "100000"

        [[node]]
        id = "330100"
        name = "杭州市"
        parent = "330000"
        \(CorpusGenerator.standardDepartments.map { "\n  [[node.department]]\n  id = \"330100-\($0.slug)\"\n  name = \"杭州市\($0.name)\"\n" }.joined())
        """

    /// A city (330100) has a backlog of `records` new policies, signed in sets of 1,000; its
    /// province (330000) receives them as the push route does: parse the body, decode and
    /// verify every set, apply each push in one transaction. Then the same rows go into a
    /// fresh database with a plain prepared-statement bulk insert, for comparison.
    /// With `postgres`, the same rows are then replicated by PostgreSQL (`PostgresReplica`).
    static func runApply(records n: Int, dir: String, postgres: Bool = false) async throws -> ApplyFigures {
        progress("apply: laying out a 3-node federation and signing a backlog of \(n) policies")
        _ = try FederationLayout.create(topologyText: applyTopology, out: dir, force: true)
        let receiver = try TongNode.open(home: NodeHome(path: dir + "/330000"), logger: quietLogger)
        defer { try? receiver.db.close() }
        // TONG_BENCH_FTS=hashsize:8388608,automerge:8 sets FTS5 options on both databases (to measure them).
        let ftsOptions: [(String, Int)] = (ProcessInfo.processInfo.environment["TONG_BENCH_FTS"] ?? "").split(separator: ",").compactMap {
            let kv = $0.split(separator: ":")
            return kv.count == 2 ? Int(kv[1]).map { (String(kv[0]), $0) } : nil
        }
        try receiver.db.setSearchIndexOptions(ftsOptions)
        let creds = try PeerCredentials.load(home: dir + "/330100")
        let signer = ChangeSigner(
            nodeID: "330100", key: try P256.Signing.PrivateKey(pemRepresentation: creds.privateKeyPEM),
            certificateDER: creds.certificateDER)
        let generator = CorpusGenerator(seed: 1, owner: "330100")
        let now = TongNode.now()

        // The sender's log: sets of 1,000 changes, one signature each, as wire bytes.
        var wires: [[UInt8]] = []
        var rows: [TongDatabase.BaselineRow] = []
        rows.reserveCapacity(n)
        for first in stride(from: 0, to: n, by: 1_000) {
            let changes = (first..<min(n, first + 1_000)).map { i in
                Change(
                    record: "330100-\(RecordKind.policy.idPrefix)\(i + 1)", kind: .policy, owner: "330100", counter: UInt64(i + 1),
                    at: now, context: VersionVector(), fields: generator.policy(i))
            }
            let signed = try signer.sign(ChangeSet(origin: "330100", scope: .owned("330100"), createdAt: now, changes: changes))
            wires.append(signed.wireBytes)
            rows.append(contentsOf: changes.compactMap { TongDatabase.baselineRow(for: $0, origin: "330100") })
        }
        guard rows.count == n else { throw NodeError.config("bench: baseline rows \(rows.count) != \(n)") }

        // Pushes as SyncService builds them from `outgoing`: at most 8 MiB and 2,000 sets each.
        let epoch = "bench0000000001"
        var pushes: [(after: Int64, upto: Int64, body: [UInt8])] = []
        var start = 0
        var wireBytes = 0
        while start < wires.count {
            var end = start, bytes = 0
            while end < wires.count, end - start < 2_000, end == start || bytes + wires[end].count <= 8 << 20 {
                bytes += wires[end].count; end += 1
            }
            let body = PushBody(epoch: epoch, after: Int64(start), upto: Int64(end), sets: Array(wires[start..<end])).encoded()
            wireBytes += body.count
            pushes.append((Int64(start), Int64(end), body))
            start = end
        }
        let setCount = wires.count, pushCount = pushes.count
        wires = []

        progress("apply: receiving \(pushes.count) pushes (\(wireBytes / 1_048_576) MiB) at 330000")
        let clock = ContinuousClock()
        let t0 = clock.now
        let cpu0 = cpuSeconds()
        for p in pushes {
            // What the push route does with a request body (PeerRoutes: PushBody, then receive).
            let push = try PushBody(bytes: p.body)
            let (outcome, malformed) = try receiver.receive(push, from: "330100")
            guard outcome.accepted, malformed == 0, outcome.applied == push.sets.count, outcome.rejected.isEmpty else {
                throw NodeError.config(
                    "bench: push not applied whole: \(outcome.applied) of \(push.sets.count) sets, "
                        + "rejected \(outcome.rejected.first?.reason ?? "-")")
            }
        }
        // Indexed, not only stored: the last push's full-text commit runs on the index writer.
        receiver.db.settleSearchIndex()
        let applySeconds = seconds(clock.now - t0)
        progress("apply: \(n) records in \(num(applySeconds, 2)) s (\(num(cpuSeconds() - cpu0, 2)) s CPU); baseline bulk insert of the same rows")
        let cpu1 = cpuSeconds()
        pushes = []

        let baseline = try TongDatabase.benchmarkBaseline(
            path: dir + "/baseline.sqlite", rows: rows, now: now, ftsOptions: ftsOptions)
        progress("apply: baseline \(num(seconds(baseline), 2)) s (\(num(cpuSeconds() - cpu1, 2)) s CPU incl. schema setup)")
        // The comparison is only fair if both wrote the same thing.
        for k in [0, n / 2, n - 1] {
            guard try receiver.db.rawColumns(rows[k].id) == TongDatabase.rawColumns(of: rows[k]) else {
                throw NodeError.config("bench: baseline row \(rows[k].id) differs from what the sync path stored")
            }
        }
        let disk = try receiver.db.diskUsage()
        var pg: PostgresOutcome?
        if postgres { pg = runPostgres(rows: rows, dir: dir + "_pg") }
        return ApplyFigures(
            records: n, sets: setCount, pushes: pushCount,
            seconds: applySeconds, baselineSeconds: seconds(baseline), wireBytes: wireBytes,
            diskBytes: disk.fileBytes, diskTables: disk.tables, postgres: pg)
    }

    /// Replicates `rows` with PostgreSQL; any failure to set it up is a skip with its reason,
    /// never a failed benchmark.
    static func runPostgres(rows: [TongDatabase.BaselineRow], dir: String) -> PostgresOutcome {
        let pg: PostgresReplica
        do { pg = try PostgresReplica.start(dir: dir) } catch {
            progress("apply_pg: skipped: \(error)")
            return .skipped("\(error)")
        }
        defer { pg.stop() }
        progress("apply_pg: \(rows.count) rows by logical replication into a pg_trgm GIN index (\(pg.bin))")
        do {
            let f = try pg.replicate(rows)
            progress(
                "apply_pg: publisher COPY \(num(f.publisherSeconds, 2)) s; commit to last row at the subscriber \(num(f.seconds, 2)) s; "
                    + "subscriber table \(f.tableBytes / 1_048_576) MiB, indexes \(f.indexBytes / 1_048_576) MiB")
            return .measured(f)
        } catch {
            progress("apply_pg: failed: \(error)")
            return .skipped("\(error)")
        }
    }
}
