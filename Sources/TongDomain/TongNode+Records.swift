import Foundation
import TongCore
import TongStore

extension TongNode {
    package static func schema(for kind: RecordKind) -> RecordSchema {
        kind == .serviceItem ? .serviceItem : .policy
    }

    /// Creates a policy or service item owned by this node (admin only), signed at `now` (ms; default the wall clock).
    public func create(kind: RecordKind, body: JSONValue, by who: Principal, now: Int64? = nil) throws -> RecordState {
        try who.requireAdmin("only the node's admin may publish")
        let fields = try Self.schema(for: kind).validate(body, partial: false, node: id)
        try checkReferences(fields)
        var f = fields
        f["status"] = "active"
        return try write([LocalWrite(id: nil, kind: kind, owner: id, scope: .owned(id), fields: f)], now: now ?? Self.now())[0]
    }

    /// Changes fields: the owner any field, an ancestor only themes and tags (rule 5).
    public func patch(kind: RecordKind, id recordID: String, body: JSONValue, by who: Principal) throws -> RecordState {
        try who.requireAdmin("only a node admin may change records")
        guard let existing = try db.record(recordID), existing.state.kind == kind else {
            throw NodeError.notFound("no \(kind.rawValue) \(recordID) here")
        }
        let owner = existing.state.owner
        let fields = try Self.schema(for: kind).validate(body, partial: true, node: owner)
        if owner != id {
            guard topology.isAncestor(id, of: owner) else { throw NodeError.forbidden("node \(id) may not change records of \(owner)") }
            let extra = Set(fields.keys).subtracting(kind.classificationFields)
            guard extra.isEmpty else {
                throw NodeError.forbidden("an ancestor may change only themes and tags, not \(extra.sorted().joined(separator: ", "))")
            }
        }
        try checkReferences(fields, owner: owner)
        // A patch that moves one end of a date range is checked against the other end as stored.
        let merged = existing.state.values.merging(fields) { $1 }
        for (from, to) in [("effective_from", "effective_to"), ("apply_from", "apply_to")] where fields[from] != nil || fields[to] != nil {
            if let f = merged[from]?.stringValue, let t = merged[to]?.stringValue, !f.isEmpty, !t.isEmpty, t < f {
                throw NodeError.invalid("\(to) is before \(from) (\(t) < \(f))", fields: [to: "is before \(from)"])
            }
        }
        return try write([LocalWrite(id: recordID, kind: kind, owner: owner, scope: .owned(owner), fields: fields)])[0]
    }

    /// Withdraws a record (a tombstone that replicates; it stays findable as withdrawn).
    public func withdraw(kind: RecordKind, id recordID: String, by who: Principal) throws {
        try who.requireAdmin("only the owner's admin may withdraw")
        guard let existing = try db.record(recordID), existing.state.kind == kind else {
            throw NodeError.notFound("no \(kind.rawValue) \(recordID) here")
        }
        guard existing.state.owner == id else { throw NodeError.forbidden("only the owner node \(existing.state.owner) may withdraw it") }
        if existing.state["status"]?.stringValue == "withdrawn" { return }
        try write([LocalWrite(id: recordID, kind: kind, owner: id, scope: .owned(id), fields: ["status": "withdrawn"])])
    }

    /// Bulk import of policies (JSON lines), in batches of one transaction each. Each line is
    /// imported on its own: a bad line is reported and skipped, the others are written.
    public func importPolicies(lines: [String], batch: Int = 1_000) throws -> (imported: Int, errors: [String]) {
        try importPolicies(jsonLines: Array(lines.joined(separator: "\n").utf8), batch: batch)
    }

    /// Bulk import of policies from the bytes of a JSON-lines file. Lines end with LF or CRLF
    /// (a trailing CR is not part of the record); blank lines are skipped. Each rejected line is
    /// one error, "line N, byte B: problem", where N counts from 1 and B is the 0-based byte
    /// offset in the file of the problem: the JSON parser's position for malformed JSON, the
    /// field's key for a field that fails validation (whose message names a control character
    /// and its position, e.g. "U+0007 at character 1234").
    public func importPolicies(jsonLines data: [UInt8], batch: Int = 1_000) throws -> (imported: Int, errors: [String]) {
        var writes: [LocalWrite] = []
        var errors: [String] = []
        var imported = 0
        var lineNumber = 0
        var start = 0
        while start < data.count {
            lineNumber += 1
            var end = data[start...].firstIndex(of: 0x0A) ?? data.count
            let next = end + 1
            if end > start, data[end - 1] == 0x0D { end -= 1 }
            let line = data[start..<end]
            defer { start = next }
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            do {
                let v = try JSONParser.parse(Array(line))
                var f = try RecordSchema.policy.validate(v, partial: false, node: id)
                try checkReferences(f)
                f["status"] = "active"
                writes.append(LocalWrite(id: nil, kind: .policy, owner: id, scope: .owned(id), fields: f))
            } catch let e as JSONParser.Failure {
                errors.append("line \(lineNumber), byte \(start + e.offset): invalid JSON: \(e.message)")
            } catch let e as NodeError {
                let at = e.fields.keys.sorted().lazy.compactMap { Self.keyOffset(of: $0, in: line) }.first ?? 0
                errors.append("line \(lineNumber), byte \(start + at): \(e.message)")
            } catch {
                errors.append("line \(lineNumber), byte \(start): \(error)")
            }
            if writes.count >= batch { imported += try write(writes).count; writes.removeAll() }
        }
        if !writes.isEmpty { imported += try write(writes).count }
        return (imported, errors)
    }

    /// Offset within `line` of the JSON key `"name"` (the first occurrence), or nil.
    static func keyOffset(of name: String, in line: ArraySlice<UInt8>) -> Int? {
        let key = Array("\"\(name)\"".utf8)
        guard line.count >= key.count else { return nil }
        var i = line.startIndex
        while i + key.count <= line.endIndex {
            if line[i] == key[0], line[i..<i + key.count].elementsEqual(key) { return i - line.startIndex }
            i += 1
        }
        return nil
    }

    /// The department must be one of the owner's, known in the directory.
    package func checkReferences(_ f: [String: JSONValue], owner: String? = nil) throws {
        let owner = owner ?? id
        if let d = f["department"]?.stringValue {
            guard Validation.departmentID(d)?.node == owner else {
                throw NodeError.invalid("department must belong to node \(owner)", fields: ["department": "must belong to node \(owner)"])
            }
            // Our own departments are those of our topology entry: right after a restore the directory
            // record may not be republished yet, and a write must not fail for that.
            let ours = owner == id && topology.node(id)?.departments.contains { $0.id == d } == true
            guard ours || department(d) != nil else {
                throw NodeError.invalid("department \(d) is not in the directory", fields: ["department": "is not in the directory"])
            }
        }
    }

    /// A record as the API shows it: its fields plus the read-only ones.
    public static func json(_ r: StoredRecord) -> JSONValue {
        var o = r.state.values
        o["id"] = .string(r.state.id)
        o["owner"] = .string(r.state.owner)
        if o["status"] == nil { o["status"] = "active" }
        o["version"] = r.state.version.json
        o["conflicts"] = .array(r.state.conflicts.map(\.json))
        o["updated_at"] = .string(iso8601(ms: r.updatedAt))
        return .object(o)
    }

    package static func iso8601(ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
