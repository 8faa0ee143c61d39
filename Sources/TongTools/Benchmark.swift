import Foundation
import Logging
import TongCore
import TongDomain

/// `tong bench`: measures on this machine how fast a node applies pushed change sets (against
/// a plain SQLite bulk insert of the same rows), how fast writes converge over a real
/// federation on loopback, and how fast search answers over a large synthetic corpus.
public enum Benchmark {
    /// Runs the scenarios and prints a table or the contract's JSON.
    public static func run(quick: Bool, json: Bool) async throws {
        let env = ProcessInfo.processInfo.environment
        // Overrides let one scenario be profiled or sized alone; the contract's figures use none.
        let only = Set((env["TONG_BENCH_ONLY"] ?? "apply,apply_pg,convergence,search,idle,delivery").split(separator: ",").map(String.init))
        let applyRecords = env["TONG_BENCH_APPLY_RECORDS"].flatMap(Int.init) ?? (quick ? 5_000 : 100_000)
        let searchRecords = env["TONG_BENCH_SEARCH_RECORDS"].flatMap(Int.init) ?? (quick ? 50_000 : 1_000_000)
        let writes = quick ? 40 : 200
        let queries = quick ? 200 : 500

        let root = NSTemporaryDirectory() + "tong-bench-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let started = ContinuousClock.now
        progress("tong bench\(quick ? " --quick" : ""): working in \(root)")

        var apply: ApplyFigures?
        var convergence: ConvergenceFigures?
        var search: SearchFigures?
        var idle: IdleFigures?
        var delivery: DeliveryFigures?
        // apply_pg replicates apply's rows and is set beside apply's rate of the same run, so it runs apply too.
        if only.contains("apply") || only.contains("apply_pg") {
            apply = try await runApply(records: applyRecords, dir: root + "/apply", postgres: only.contains("apply_pg"))
        }
        if only.contains("search") { search = try await runSearch(records: searchRecords, queries: queries, dir: root + "/search") }
        let idleSeconds = env["TONG_BENCH_IDLE_SECONDS"].flatMap(Double.init) ?? (quick ? 15 : 60)
        let deliveryEnterprises = env["TONG_BENCH_DELIVERY_ENTERPRISES"].flatMap(Int.init) ?? (quick ? 10_000 : 100_000)
        if only.contains("delivery") {
            delivery = try await runDelivery(enterprises: deliveryEnterprises, webhooks: quick ? 500 : 2_000, dir: root + "/delivery")
        }
        if only.contains("idle") { idle = try await runIdle(seconds: idleSeconds, dir: root + "/idle") }
        // Last: its federation keeps running until the process exits (see runConvergence).
        if only.contains("convergence") { convergence = try await runConvergence(quick: quick, writes: writes, dir: root + "/convergence") }
        let total = seconds(ContinuousClock.now - started)
        progress("done in \(String(format: "%.0f", total)) s")
        let peak = memory().hwm
        if json {
            print(
                jsonReport(apply: apply, convergence: convergence, search: search, idle: idle, delivery: delivery, peakMB: peak, totalSeconds: total))
        } else {
            print(table(apply: apply, convergence: convergence, search: search, idle: idle, delivery: delivery, peakMB: peak, totalSeconds: total))
        }
    }

    // MARK: - Output

    static func jsonReport(
        apply: ApplyFigures?, convergence: ConvergenceFigures?, search: SearchFigures?, idle: IdleFigures?,
        delivery: DeliveryFigures? = nil, peakMB: Double, totalSeconds: Double
    ) -> String {
        var parts: [String] = []
        if let a = apply {
            parts.append(
                "\"apply\": {\"records\": \(a.records), \"records_per_s\": \(num(a.recordsPerSecond)), "
                    + "\"baseline_records_per_s\": \(num(a.baselinePerSecond)), "
                    + "\"ratio\": \(num(a.ratio, 3)), \"wire_bytes_per_change\": \(num(a.wireBytesPerChange)), "
                    + "\"pushes\": \(a.pushes), \"sets\": \(a.sets), \"bytes_per_policy\": \(num(a.bytesPerRecord, 0)), "
                    + "\"disk_bytes\": \(a.diskBytes), \"disk_bytes_per_policy_by_table\": {"
                    + a.diskTables.prefix(10).map { "\"\($0.name)\": \(num(Double($0.bytes) / Double(a.records), 0))" }
                    .joined(separator: ", ") + "}}"
            )
        }
        switch apply?.postgres {
        case .measured(let pg)?:
            let tongRate = apply?.recordsPerSecond ?? .nan
            let tongBytes = apply?.bytesPerRecord ?? .nan
            var fields: [String] = []
            fields.append("\"records\": \(pg.records)")
            fields.append("\"records_per_s\": \(num(pg.recordsPerSecond))")
            fields.append("\"tong_records_per_s\": \(num(tongRate))")
            fields.append("\"ratio_to_pg\": \(num(tongRate / pg.recordsPerSecond, 3))")
            fields.append("\"seconds\": \(num(pg.seconds, 2))")
            fields.append("\"publisher_copy_s\": \(num(pg.publisherSeconds, 2))")
            fields.append("\"bytes_per_policy\": \(num(pg.bytesPerRecord, 0))")
            fields.append("\"table_bytes\": \(pg.tableBytes)")
            fields.append("\"index_bytes\": \(pg.indexBytes)")
            fields.append("\"tong_bytes_per_policy\": \(num(tongBytes, 0))")
            fields.append("\"version\": \"\(pg.version)\"")
            fields.append("\"lc_ctype\": \"\(pg.ctype)\"")
            fields.append("\"title_trigrams\": \(pg.titleTrigrams.all)")
            fields.append("\"title_trigrams_non_ascii\": \(pg.titleTrigrams.nonASCII)")
            parts.append("\"apply_pg\": {" + fields.joined(separator: ", ") + "}")
        case .skipped(let why)?:
            parts.append("\"apply_pg\": {\"skipped\": \(String(decoding: CanonicalJSON.encode(.string(why)), as: UTF8.self))}")
        case nil:
            break
        }
        if let c = convergence {
            parts.append(
                "\"convergence\": {\"nodes\": \(c.nodes), \"p50_ms\": \(num(c.p50)), \"p99_ms\": \(num(c.p99)), "
                    + "\"writes\": \(c.writes), \"max_ms\": \(num(c.max))}"
            )
        }
        if let s = search {
            let kinds = s.byKind.map { "\"\($0.name)\": {\"queries\": \($0.count), \"p50_ms\": \(num($0.p50)), \"p99_ms\": \(num($0.p99))}" }.joined(
                separator: ", ")
            parts.append(
                "\"search\": {\"records\": \(s.records), \"p50_ms\": \(num(s.p50)), \"p99_ms\": \(num(s.p99)), \"queries\": \(s.queries), "
                    + "\"load_records_per_s\": \(num(s.loadPerSecond)), \"database_mb\": \(num(s.databaseMB)), \"peak_rss_mb\": \(num(s.peakMB)), "
                    + "\"postings_segments\": \(s.postingsSegments), \"postings_build_s\": \(num(s.postingsSeconds)), "
                    + "\"by_kind\": {\(kinds)}}")
        }
        if let d = delivery {
            parts.append(
                "\"delivery\": {\"enterprises\": \(d.enterprises), \"matched\": \(d.matched), "
                    + "\"match_and_outbox_ms\": \(num(d.applySeconds * 1000)), "
                    + "\"webhooks\": \(d.webhooks), \"webhooks_per_s\": \(num(d.webhooksPerSecond))}")
        }
        if let i = idle {
            parts.append("\"idle_cpu_percent\": \(num(i.maxPercent, 3))")
            parts.append(
                "\"idle\": {\"nodes\": \(i.nodes), \"seconds\": \(num(i.seconds)), \"max_cpu_percent\": \(num(i.maxPercent, 3)), "
                    + "\"mean_cpu_percent\": \(num(i.meanPercent, 3))}")
        }
        parts.append("\"peak_rss_mb\": \(num(peakMB))")
        parts.append("\"seconds\": \(num(totalSeconds))")
        return "{" + parts.joined(separator: ", ") + "}"
    }

    static func table(
        apply: ApplyFigures?, convergence: ConvergenceFigures?, search: SearchFigures?, idle: IdleFigures?,
        delivery: DeliveryFigures? = nil, peakMB: Double, totalSeconds: Double
    ) -> String {
        func mark(_ ok: Bool) -> String { ok ? "met" : "NOT met" }
        var lines = ["scenario      result"]
        if let a = apply {
            lines.append("apply         \(a.records) policies in \(a.sets) signed sets, \(a.pushes) pushes: \(num(a.recordsPerSecond, 0)) records/s")
            lines.append("              baseline (plain SQLite bulk insert, same rows and indexes): \(num(a.baselinePerSecond, 0)) records/s")
            lines.append(
                "              ratio \(num(a.ratio, 3)) (target >= 0.5: \(mark(a.ratio >= 0.5))); "
                    + "\(num(a.wireBytesPerChange, 0)) wire bytes per change"
            )
            lines.append("              on disk after a checkpoint: \(num(a.bytesPerRecord, 0)) bytes per policy (database + WAL)")
        }
        switch apply?.postgres {
        case .measured(let pg)?:
            let ratio = apply.map { $0.recordsPerSecond / pg.recordsPerSecond } ?? .nan
            lines.append(
                "apply_pg      PostgreSQL logical replication, \(pg.records) rows into a pg_trgm GIN index: \(num(pg.recordsPerSecond, 0)) rows/s "
                    + "(commit to last row \(num(pg.seconds, 2)) s)")
            lines.append(
                "              Tong / PostgreSQL: \(num(ratio, 3)) (target >= 1.0: \(mark(ratio >= 1))); subscriber "
                    + "\(num(pg.bytesPerRecord, 0)) bytes per policy (table + indexes)")
            lines.append(
                "              LC_CTYPE \(pg.ctype): the last title gives \(pg.titleTrigrams.all) trigrams, "
                    + "\(pg.titleTrigrams.nonASCII) of them Chinese (0: Chinese text is not indexed)")
        case .skipped(let why)?:
            lines.append("apply_pg      skipped: \(why)")
        case nil:
            break
        }
        if let c = convergence {
            lines.append(
                "convergence   \(c.nodes) nodes, four tiers, \(c.writes) writes: p50 \(num(c.p50)) ms, p99 \(num(c.p99)) ms, "
                    + "max \(num(c.max)) ms (target p99 < 500 ms: \(mark(c.p99 < 500)))"
            )
        }
        if let s = search {
            lines.append(
                "search        \(s.records) policies (loaded at \(num(s.loadPerSecond, 0)) records/s, "
                    + "\(num(s.databaseMB, 0)) MB on disk), \(s.queries) queries: p50 \(num(s.p50)) ms, p99 \(num(s.p99)) ms "
                    + "(target p99 < 20 ms: \(mark(s.p99 < 20)))"
            )
            for k in s.byKind {
                lines.append(
                    "                \(k.name.padding(toLength: 15, withPad: " ", startingAt: 0)) "
                        + "\(k.count) queries: p50 \(num(k.p50)) ms, p99 \(num(k.p99)) ms"
                )
            }
            lines.append(
                "              peak resident memory while loading and searching: \(num(s.peakMB, 0)) MB (target < 300 MB: \(mark(s.peakMB < 300)))")
            lines.append("              postings: \(s.postingsSegments) segments sealed in \(num(s.postingsSeconds)) s after loading")
        }
        if let d = delivery {
            lines.append(
                "delivery      a national policy at a county node with \(d.enterprises) enterprises: matched \(d.matched), outbox written in "
                    + "\(num(d.applySeconds * 1000)) ms (target < 2 s: \(mark(d.applySeconds < 2)))")
            lines.append("              \(d.webhooks) signed webhooks to a loopback receiver: \(num(d.webhooksPerSecond, 0)) deliveries/s")
        }
        if let i = idle {
            lines.append(
                "idle          \(i.nodes) tong serve processes, no traffic, \(num(i.seconds, 0)) s: busiest node \(num(i.maxPercent, 3))% of a core, "
                    + "mean \(num(i.meanPercent, 3))% (target < 0.2%: \(mark(i.maxPercent < 0.2)))")
        }
        lines.append("process       peak resident memory \(num(peakMB, 0)) MB; \(num(totalSeconds, 0)) s in all")
        return lines.joined(separator: "\n")
    }

    static func num(_ x: Double, _ digits: Int = 1) -> String {
        guard x.isFinite else { return "null" }
        return String(format: "%.\(digits)f", x)
    }

    // MARK: - Helpers

    /// Progress goes to stderr so stdout carries only the result.
    static func progress(_ s: String) {
        FileHandle.standardError.write(Data(("bench: " + s + "\n").utf8))
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func milliseconds(_ d: Duration) -> Double { seconds(d) * 1000 }

    /// Nearest-rank percentile of `xs` (p in 0...100).
    static func percentile(_ xs: [Double], _ p: Double) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        let rank = Int((p / 100 * Double(s.count)).rounded(.up))
        return s[min(max(rank, 1), s.count) - 1]
    }

    /// CPU time (user + system) this process used so far, seconds.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }

    /// Current and peak resident memory of this process in MB (VmRSS, VmHWM).
    static func memory() -> (rss: Double, hwm: Double) {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (.nan, .nan) }
        func field(_ name: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
                let kb = line.split(separator: " ").compactMap({ Double($0) }).first
            else { return .nan }
            return kb / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// Resets VmHWM to the current RSS (Linux `clear_refs` 5), so a scenario's peak is its own
    /// and not the previous scenario's. Returns false where the kernel does not allow it.
    @discardableResult
    static func resetPeak() -> Bool {
        guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? h.close() }
        return (try? h.write(contentsOf: Data("5".utf8))) != nil
    }

    /// A logger that stays silent: the nodes' warnings are not benchmark output.
    static var quietLogger: Logger {
        var l = Logger(label: "tong.bench")
        l.logLevel = .critical
        return l
    }

    /// Size of a database with its WAL, in MB.
    static func fileMB(_ path: String) -> Double {
        let fm = FileManager.default
        let bytes = [path, path + "-wal"].compactMap { (try? fm.attributesOfItem(atPath: $0))?[.size] as? NSNumber }.reduce(0) { $0 + $1.doubleValue }
        return bytes / 1_048_576
    }
}
