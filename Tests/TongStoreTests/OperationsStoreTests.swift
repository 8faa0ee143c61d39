import Foundation
import GRDB
import Testing

@testable import TongCore
@testable import TongStore

/// The store's side of issue 16: readable views, a full disk, a damaged file.
@Suite struct OperationsStoreTests {
    /// Runs the system `sqlite3` shell; nil when it is not installed.
    static func sqlite3(_ args: [String]) throws -> (status: Int32, out: String, err: String)? {
        guard let exe = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first(where: FileManager.default.isExecutableFile) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func theSqlite3ShellReadsEveryViewOfAReplicaReadOnly() throws {
        let path = tempDir() + "/t.sqlite"
        let db = try TongDatabase(path: path, nodeID: "330000", now: 1)
        _ = try db.write([policy("稳岗返还通知", body: "返还失业保险费")], signer: signer("330000"), topology: storeTopology, now: 2)
        let item = LocalWrite(
            id: nil, kind: .serviceItem, owner: "330000", scope: .owned("330000"),
            fields: [
                "code": "330000-FW-9", "name": "稳岗返还申领", "department": "330000-hrss", "handling_url": "https://www.zjzwfw.gov.cn/",
                "time_limit_days": 5, "materials": ["营业执照"], "status": "active",
            ])
        let dept = LocalWrite(
            id: "330000-hrss", kind: .department, owner: "330000", scope: .directory, fields: ["name": "浙江人社", "status": "active"], mustExist: false)
        _ = try db.write([dept], signer: signer("330000"), topology: storeTopology, now: 3)
        _ = try db.write([item], signer: signer("330000"), topology: storeTopology, now: 4)
        try db.checkpoint()
        try db.close()
        guard
            let r = try Self.sqlite3([
                "-readonly", "-separator", "|", path,
                "SELECT title, department, issued_on, json_array_length(themes) FROM policies;"
                    + "SELECT code, name, time_limit_days, materials FROM service_items;" + "SELECT id, node, name, status FROM departments;",
            ])
        else {
            Issue.record("the sqlite3 shell is not installed (apt-get install -y sqlite3)")
            return
        }
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines == ["稳岗返还通知|330000-hrss|2022-05-01|1", "330000-FW-9|稳岗返还申领|5|[\"营业执照\"]", "330000-hrss|330000|浙江人社|active"])
        // Opening read-only really is read-only: a write is refused.
        let w = try Self.sqlite3(["-readonly", path, "DELETE FROM record;"])
        #expect(w?.status != 0)
    }

    @Test func aFullDatabaseIsStorageFullAndWritesResumeOnceThereIsRoom() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        try db.limitSize(extraPages: 0)
        let big = String(repeating: "缓缴社保费，减免房屋租金。", count: 4_000)
        do {
            _ = try db.write([policy("写不下", body: big)], signer: signer("330000"), topology: storeTopology, now: 2)
            Issue.record("the write should have failed")
        } catch let e as StoreError {
            #expect(e.code == .storageFull)
            #expect(e.message.contains("database or disk is full") && e.message.contains("t.sqlite"))
        }
        // Nothing of it was kept: not the record, not the search catalog, not the counter.
        #expect(try db.search(SearchRequest()).total == 0)
        #expect(try db.state().counter == 0)
        try db.limitSize(extraPages: nil)
        _ = try db.write([policy("写得下", body: big)], signer: signer("330000"), topology: storeTopology, now: 3)
        #expect(try db.search(SearchRequest()).total == 1)
    }

    /// Overwrites page `page` (1-based) of a stopped replica with seeded random bytes.
    static func corrupt(_ path: String, page: Int) throws {
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? h.close() }
        var rng = SplitMix64(seed: 16)
        var bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[0] = 0  // never a valid b-tree page type
        try h.seek(toOffset: UInt64((page - 1) * 4096))
        try h.write(contentsOf: bytes)
    }

    @Test func aCorruptFileRefusesToOpenNamingIt() throws {
        let path = tempDir() + "/t.sqlite"
        do {
            let db = try TongDatabase(path: path, nodeID: "330000", now: 1)
            let writes = (0..<400).map { i in policy("第\(i)号政策", body: String(repeating: "中小微企业稳岗返还第\(i)条。", count: 20)) }
            _ = try db.write(writes, signer: signer("330000"), topology: storeTopology, now: 2)
            try db.checkpoint()
            #expect(db.integrityProblem() == nil)
            try db.close()
        }
        let pages = (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue / 4096
        #expect(pages > 100)
        try Self.corrupt(path, page: 100)
        do {
            _ = try TongDatabase(path: path, nodeID: "330000", now: 3)
            Issue.record("a corrupt file opened")
        } catch let e as StoreError {
            #expect(e.code == .corrupt)
            #expect(e.message.hasPrefix("database \(path) is corrupt ("))
            #expect(!e.message.contains("\n"))
        }
    }
}

/// The full-text index in its own file (issue 16): derived data, rebuilt from the replica.
@Suite struct SearchIndexFileTests {
    func titles(_ db: TongDatabase, _ q: String) throws -> [String] {
        var req = SearchRequest()
        req.q = q
        return try db.search(req).hits.map { $0.record.state["title"]?.stringValue ?? "" }.sorted()
    }

    @Test func theIndexIsRebuiltWhenItsFileIsMissingDamagedOrOutOfStep() throws {
        let path = tempDir() + "/t.sqlite", index = TongDatabase.searchIndexPath(for: path)
        #expect(index.hasSuffix("/t.search.sqlite"))
        var db = try TongDatabase(path: path, nodeID: "330000", now: 1)
        _ = try db.write([policy("稳岗返还通知", body: "返还失业保险费"), policy("社保缓缴", body: "阶段性缓缴社会保险费")],
                         signer: signer("330000"), topology: storeTopology, now: 2)
        try db.close()
        // Current: opening again rebuilds nothing.
        db = try TongDatabase(path: path, nodeID: "330000", now: 3)
        #expect(db.searchIndexRebuild == nil)
        #expect(try titles(db, "缓缴") == ["社保缓缴"])
        try db.close()
        // Missing: rebuilt from the records, and search answers as before.
        for f in [index, index + "-wal", index + "-shm"] { try? FileManager.default.removeItem(atPath: f) }
        db = try TongDatabase(path: path, nodeID: "330000", now: 4)
        #expect(db.searchIndexRebuild?.records == 2)
        #expect(try titles(db, "缓缴") == ["社保缓缴"])
        try db.checkpoint()
        try db.close()
        // Out of step (as after a crash between the two files' commits): an older copy of the
        // index comes back after a third policy was written; the generation tells, it is rebuilt.
        let old = index + ".old"
        try FileManager.default.copyItem(atPath: index, toPath: old)
        db = try TongDatabase(path: path, nodeID: "330000", now: 5)
        _ = try db.write([policy("减免房租", body: "缓缴与减免并行")], signer: signer("330000"), topology: storeTopology, now: 6)
        try db.checkpoint()
        try db.close()
        for f in [index + "-wal", index + "-shm"] { try? FileManager.default.removeItem(atPath: f) }
        try FileManager.default.removeItem(atPath: index)
        try FileManager.default.moveItem(atPath: old, toPath: index)
        db = try TongDatabase(path: path, nodeID: "330000", now: 7)
        #expect(db.searchIndexRebuild?.records == 3)
        #expect(db.searchIndexRebuild?.reason.contains("generation") == true, "\(String(describing: db.searchIndexRebuild))")
        #expect(try titles(db, "缓缴") == ["减免房租", "社保缓缴"])
        try db.close()
        // Damaged: garbage in place of the index is discarded and rebuilt; the replica is untouched.
        for f in [index + "-wal", index + "-shm"] { try? FileManager.default.removeItem(atPath: f) }
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: index))
        db = try TongDatabase(path: path, nodeID: "330000", now: 8)
        #expect(db.searchIndexRebuild?.records == 3)
        #expect(db.searchIndexRebuild?.reason.contains("damaged") == true)
        #expect(try titles(db, "稳岗") == ["稳岗返还通知"])
        try db.close()
    }

    /// The replica holds no table that needs Tong's tokenizer: Datasette (when installed) opens
    /// it with no extension and serves each readable view.
    @Test func datasetteOpensTheReplica() async throws {
        let dir = tempDir(), path = dir + "/t.sqlite"
        let db = try TongDatabase(path: path, nodeID: "330000", now: 1)
        _ = try db.write([policy("稳岗返还通知", body: "返还失业保险费")], signer: signer("330000"), topology: storeTopology, now: 2)
        try db.checkpoint()
        try db.close()
        // The system sqlite3 shell lists every table and counts each one's rows: a table needing
        // a missing tokenizer would fail here.
        if let tables = try OperationsStoreTests.sqlite3(["-readonly", path, "SELECT name FROM sqlite_schema WHERE type = 'table';"]) {
            #expect(tables.status == 0 && !tables.out.contains("text_fts"), "\(tables.out)\(tables.err)")
            for t in tables.out.split(separator: "\n") {
                let r = try OperationsStoreTests.sqlite3(["-readonly", path, "SELECT count(*) FROM \"\(t)\";"])
                #expect(r?.status == 0, "\(t): \(r?.err ?? "")")
            }
        }
        let candidates = ["/usr/local/bin/datasette", "/usr/bin/datasette", NSHomeDirectory() + "/.local/bin/datasette"]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/datasette" }
        guard let exe = candidates.first(where: FileManager.default.isExecutableFile) else {
            print("datasette is not installed (pip install datasette); the sqlite3 shell check above stands for it")
            return
        }
        // `datasette inspect` opens the file and counts every table, as its index page does.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["inspect", path, "--inspect-file", dir + "/inspect.json"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: e, as: UTF8.self))")
        let inspect = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/inspect.json"))))
        #expect(inspect["t"]?["tables"]?["record"]?["count"] == 1)
    }
}
