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

    /// Bulk import of policies (JSON lines), in batches of one transaction each.
    public func importPolicies(lines: [String], batch: Int = 1_000) throws -> (imported: Int, errors: [String]) {
        var writes: [LocalWrite] = []
        var errors: [String] = []
        var imported = 0
        for (n, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                let v = try JSONParser.parse(line)
                var f = try RecordSchema.policy.validate(v, partial: false, node: id)
                try checkReferences(f)
                f["status"] = "active"
                writes.append(LocalWrite(id: nil, kind: .policy, owner: id, scope: .owned(id), fields: f))
            } catch let e as NodeError {
                errors.append("line \(n + 1): \(e.message)")
            } catch {
                errors.append("line \(n + 1): \(error)")
            }
            if writes.count >= batch { imported += try write(writes).count; writes.removeAll() }
        }
        if !writes.isEmpty { imported += try write(writes).count }
        return (imported, errors)
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
