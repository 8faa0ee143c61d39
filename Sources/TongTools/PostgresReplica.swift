import Foundation
import TongStore

/// Two throwaway PostgreSQL clusters on this machine, a publisher and a subscriber joined by
/// logical replication, to set Tong's apply beside what an operator would get from PostgreSQL
/// (issue 17). Real `initdb`, `pg_ctl` and `psql` processes, unix sockets in a private folder,
/// default settings except `wal_level = logical`; both clusters are stopped and removed by `stop()`.
///
/// PostgreSQL refuses to run as root: when this process is root, the servers run as the
/// `postgres` user (or `nobody`) through `runuser`, and their folder is handed to that user.
struct PostgresReplica {
    /// What one replication of `rows` measured.
    struct Figures: Sendable {
        /// Rows replicated.
        var records: Int
        /// Seconds from the publisher's commit to the last row visible at the subscriber.
        var seconds: Double
        /// Seconds the publisher's one `COPY` transaction took (not part of `seconds`).
        var publisherSeconds: Double
        /// The subscriber's table (heap and TOAST), bytes, after the apply.
        var tableBytes: Int
        /// The subscriber's indexes (primary key and the pg_trgm GIN index), bytes.
        var indexBytes: Int
        /// `postgres --version`.
        var version: String
        /// The subscriber's `LC_CTYPE` (see `PostgresReplica.ctype`).
        var ctype: String = ""
        /// Trigrams pg_trgm takes from the last row's title (`show_trgm`), and how many of
        /// them hold a non-ASCII character: zero means Chinese text is not indexed.
        var titleTrigrams = (all: 0, nonASCII: 0)
        /// Rows per second, commit to visible.
        var recordsPerSecond: Double { Double(records) / seconds }
        /// Bytes on disk per replicated row at the subscriber (table + indexes).
        var bytesPerRecord: Double { Double(tableBytes + indexBytes) / Double(records) }
    }

    /// Why PostgreSQL cannot be used here.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    let bin: String
    let dir: String
    /// The user the servers run as (nil: this process's own user).
    let serverUser: String?
    let ports = (publisher: 5432, subscriber: 5433)
    /// The clusters' `LC_CTYPE`. pg_trgm takes trigrams only from characters the ctype calls
    /// alphanumeric: under `C` no Chinese character is one, so the GIN index would hold the
    /// ASCII words alone (document-number digits, Latin words) and the comparison would set a
    /// full bigram index against an index of almost nothing. `C.UTF-8` (glibc) classifies CJK
    /// ideographs as letters. Collation stays `C`. `TONG_BENCH_PG_CTYPE=C` reproduces the
    /// earlier, ASCII-only figure.
    var ctype: String { ProcessInfo.processInfo.environment["TONG_BENCH_PG_CTYPE"] ?? "C.UTF-8" }

    /// The folder holding `initdb`, `pg_ctl`, `postgres` and `psql`: from PATH (symlinks
    /// resolved, as Debian links them into /usr/local/bin or /usr/bin), else the newest
    /// /usr/lib/postgresql/*/bin. Nil when PostgreSQL is not installed.
    static func findBin() -> String? {
        let fm = FileManager.default
        func complete(_ d: String) -> Bool { ["initdb", "pg_ctl", "postgres", "psql"].allSatisfy { fm.isExecutableFile(atPath: d + "/" + $0) } }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for d in path.split(separator: ":").map(String.init) where fm.isExecutableFile(atPath: d + "/initdb") {
            let real = URL(fileURLWithPath: d + "/initdb").resolvingSymlinksInPath().deletingLastPathComponent().path
            if complete(real) { return real }
        }
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted(by: >)
        return versions.map { "/usr/lib/postgresql/\($0)/bin" }.first(where: complete)
    }

    /// Creates both clusters under `dir` and starts them. Throws `Unavailable` when PostgreSQL
    /// or an unprivileged user to run it is missing.
    static func start(dir: String) throws -> PostgresReplica {
        guard let bin = findBin() else {
            throw Unavailable(description: "PostgreSQL not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql)")
        }
        var user: String?
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if geteuid() == 0 {
            guard fm.isExecutableFile(atPath: "/usr/sbin/runuser") || fm.isExecutableFile(atPath: "/sbin/runuser") else {
                throw Unavailable(description: "running as root and runuser is missing: PostgreSQL refuses to run as root")
            }
            let candidates: [String] = ["postgres", "nobody"]
            guard let name = candidates.first(where: { getpwnam($0) != nil }), let pw = getpwnam(name) else {
                throw Unavailable(description: "running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")
            }
            user = name
            try fm.setAttributes(
                [.ownerAccountID: NSNumber(value: pw.pointee.pw_uid), .groupOwnerAccountID: NSNumber(value: pw.pointee.pw_gid)], ofItemAtPath: dir)
        }
        let pg = PostgresReplica(bin: bin, dir: dir, serverUser: user)
        do {
            try pg.initAndStart()
        } catch {
            // A publisher already running must not outlive a subscriber that failed to start.
            pg.stop()
            throw error
        }
        return pg
    }

    /// Creates and starts both clusters.
    private func initAndStart() throws {
        let pg = self
        for (name, port) in [("publisher", pg.ports.publisher), ("subscriber", pg.ports.subscriber)] {
            try pg.server([
                "initdb", "-D", "\(dir)/\(name)", "-A", "trust", "-U", "tong", "-E", "UTF8", "--locale=C", "--lc-ctype=\(pg.ctype)", "--no-sync",
            ])
            let conf = """

                # tong bench: local sockets only, in this folder; logical replication.
                wal_level = logical
                listen_addresses = ''
                unix_socket_directories = '\(dir)'
                port = \(port)

                """
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/\(name)/postgresql.conf"))
            try h.seekToEnd()
            try h.write(contentsOf: Data(conf.utf8))
            try h.close()
            try pg.server(["pg_ctl", "-D", "\(dir)/\(name)", "-l", "\(dir)/\(name).log", "-w", "-t", "60", "start"])
        }
    }

    /// Stops both servers at once (nothing in them is kept) and removes their folder.
    func stop() {
        for name in ["subscriber", "publisher"] where FileManager.default.fileExists(atPath: "\(dir)/\(name)/postmaster.pid") {
            _ = try? server(["pg_ctl", "-D", "\(dir)/\(name)", "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Replicates `rows`: the same table at both ends (the policy's projection and text columns),
    /// a pg_trgm GIN index over title, document number and body at the subscriber, a
    /// publication and a subscription; then one `COPY` of every row at the publisher in one
    /// transaction, timed from its commit until the last row is visible at the subscriber.
    func replicate(_ rows: [TongDatabase.BaselineRow]) throws -> Figures {
        guard let last = rows.last else { throw Unavailable(description: "no rows") }
        let table = """
            CREATE TABLE policy (id text PRIMARY KEY, region text NOT NULL, department text NOT NULL, themes bigint NOT NULL,
                audiences bigint NOT NULL, status text NOT NULL, issued_on text NOT NULL, title text NOT NULL,
                doc_number text NOT NULL, body text NOT NULL, tags text NOT NULL);
            """
        _ = try psql(ports.publisher, table + "CREATE PUBLICATION tong_bench FOR TABLE policy;")
        _ = try psql(
            ports.subscriber,
            table + """
                CREATE EXTENSION pg_trgm;
                CREATE INDEX policy_trgm ON policy USING gin (title gin_trgm_ops, doc_number gin_trgm_ops, body gin_trgm_ops);
                CREATE SUBSCRIPTION tong_bench CONNECTION 'host=\(dir) port=\(ports.publisher) dbname=postgres user=tong'
                    PUBLICATION tong_bench;
                """)
        // The initial table sync (of an empty table) must be over before the clock starts.
        _ = try psql(ports.subscriber, waitLoop("NOT EXISTS (SELECT 1 FROM pg_subscription_rel WHERE srsubstate <> 'r')", seconds: 120))

        let tsv = dir + "/rows.tsv"
        try Data(Self.copyText(rows)).write(to: URL(fileURLWithPath: tsv))
        // The watcher runs in its own session before the publisher commits; each check in the
        // loop takes a fresh snapshot (READ COMMITTED, volatile DO block), so it sees the
        // subscriber's apply transaction the moment it commits.
        let lastID = last.id.replacingOccurrences(of: "'", with: "''")
        let watcher = try psqlProcess(
            ports.subscriber,
            waitLoop("EXISTS (SELECT 1 FROM policy WHERE id = '\(lastID)')", seconds: 1_800, poll: 0.005)
                + "SELECT extract(epoch FROM clock_timestamp());")
        let pub = try psql(
            ports.publisher,
            """
            SELECT extract(epoch FROM clock_timestamp());
            BEGIN;
            \\copy policy FROM '\(tsv)'
            COMMIT;
            SELECT extract(epoch FROM clock_timestamp());
            """)
        let watched = try finish(watcher)
        let pubTimes = pub.split(separator: "\n").compactMap { Double($0) }
        guard pubTimes.count == 2, let visible = watched.split(separator: "\n").compactMap({ Double($0) }).last else {
            throw Unavailable(description: "could not read the replication times (publisher: \(pub), subscriber: \(watched))")
        }
        let sizes = try psql(ports.subscriber, "SELECT pg_table_size('policy') || ' ' || pg_indexes_size('policy');")
            .split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let version = (try? run(bin + "/postgres", ["--version"]))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "postgres"
        let trigrams = try psql(
            ports.subscriber,
            "SELECT cardinality(t) || ' ' || cardinality(array(SELECT x FROM unnest(t) x WHERE x ~ '[^\\x01-\\x7f]' OR x ~ '^0x')) "
                + "|| ' ' || current_setting('lc_ctype') FROM (SELECT show_trgm(title) t FROM policy WHERE id = '\(lastID)') s;"
        ).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var figures = Figures(
            records: rows.count, seconds: visible - pubTimes[1], publisherSeconds: pubTimes[1] - pubTimes[0],
            tableBytes: sizes.first ?? 0, indexBytes: sizes.dropFirst().first ?? 0, version: version)
        if trigrams.count == 3, let all = Int(trigrams[0]), let nonASCII = Int(trigrams[1]) {
            figures.titleTrigrams = (all, nonASCII)
            figures.ctype = trigrams[2]
        }
        return figures
    }

    /// A DO block that returns once `condition` holds, checked every `poll` seconds, and fails
    /// after `seconds`.
    func waitLoop(_ condition: String, seconds: Int, poll: Double = 0.05) -> String {
        """
        DO $$
        DECLARE deadline timestamptz := clock_timestamp() + interval '\(seconds) seconds';
        BEGIN
            WHILE NOT (\(condition)) LOOP
                IF clock_timestamp() > deadline THEN RAISE EXCEPTION 'tong bench: timed out waiting for %', \(Self.literal(condition)); END IF;
                PERFORM pg_sleep(\(poll));
            END LOOP;
        END $$;

        """
    }

    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    /// `rows` in COPY's text format: tab-separated, backslash escapes.
    static func copyText(_ rows: [TongDatabase.BaselineRow]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * 1_200)
        func field(_ s: String) {
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                default: out.append(b)
                }
            }
        }
        for r in rows {
            let columns = [
                r.id, r.region, r.department, String(r.themes), String(r.audiences), r.status, r.issuedOn, r.title, r.docNumber, r.body, r.tags,
            ]
            for (i, c) in columns.enumerated() {
                if i > 0 { out.append(UInt8(ascii: "\t")) }
                field(c)
            }
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    // MARK: - Processes

    /// Runs a server-side tool (initdb, pg_ctl) as the server user.
    @discardableResult
    func server(_ command: [String]) throws -> String {
        let tool = bin + "/" + command[0]
        if let serverUser {
            let runuser = FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser"
            return try run(runuser, ["-u", serverUser, "--", tool] + command.dropFirst())
        }
        return try run(tool, Array(command.dropFirst()))
    }

    /// Runs `sql` through psql against one of the clusters; returns its unaligned output.
    func psql(_ port: Int, _ sql: String) throws -> String {
        try finish(psqlProcess(port, sql))
    }

    /// Starts psql on a script file (so backslash commands work and each statement is its own
    /// transaction, as typed at a prompt).
    func psqlProcess(_ port: Int, _ sql: String) throws -> Launched {
        let script = "\(dir)/script-\(UUID().uuidString.prefix(8)).sql"
        try Data(sql.utf8).write(to: URL(fileURLWithPath: script))
        return try launch(
            bin + "/psql",
            ["-h", dir, "-p", "\(port)", "-U", "tong", "-d", "postgres", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", script])
    }

    func run(_ tool: String, _ arguments: [String]) throws -> String {
        try finish(launch(tool, arguments))
    }

    /// A started tool and the files its output goes to (files, not pipes: nothing to drain).
    struct Launched {
        var pid: pid_t
        var tool: String
        var arguments: [String]
        var out: String
        var err: String
    }

    /// Starts `tool` with posix_spawn, stdout and stderr to files. Not Foundation's `Process`:
    /// on Linux it learns that a child ended from a descriptor the child inherits, and `pg_ctl
    /// start` leaves a server holding it, so `waitUntilExit` never returns.
    func launch(_ tool: String, _ arguments: [String]) throws -> Launched {
        let name = "\(dir)/out-\(UUID().uuidString.prefix(8))"
        // No PGHOST, PGPORT or PGDATA from the caller's shell may redirect the tools.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        env["LC_ALL"] = "C"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, name + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, name + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, tool, &actions, nil, argv, envp)
        guard rc == 0 else { throw Unavailable(description: "cannot start \(tool): \(String(cString: strerror(rc)))") }
        return Launched(pid: pid, tool: tool, arguments: arguments, out: name + ".out", err: name + ".err")
    }

    func finish(_ l: Launched) throws -> String {
        var status: Int32 = 0
        while waitpid(l.pid, &status, 0) < 0, errno == EINTR {}
        let text = (try? String(contentsOfFile: l.out, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            let name = URL(fileURLWithPath: l.tool).lastPathComponent
            let err = (try? String(contentsOfFile: l.err, encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(name) \(l.arguments.prefix(6).joined(separator: " ")) failed (\(status)): \(err.prefix(600))")
        }
        return text
    }
}
