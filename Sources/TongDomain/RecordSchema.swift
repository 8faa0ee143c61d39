import Foundation
import TongCore

/// What the API accepts for each writable kind: field by field, so validation is one table,
/// not a function per kind.
package struct RecordSchema: Sendable {
    /// A field's type and bounds: TongCore's `FieldRule`, the same table receivers check.
    package typealias FieldType = FieldRule

    package var kind: RecordKind
    package var fields: [String: FieldType]
    package var required: Set<String>
    package var defaults: @Sendable (String) -> [String: JSONValue]

    /// Fields the server sets; a client may not write them.
    package static let readOnly: Set<String> = ["id", "owner", "status", "version", "conflicts", "updated_at"]

    package static let policy = RecordSchema(
        kind: .policy,
        fields: ChangeContent.policy.filter { $0.key != "status" },
        required: ["title", "department", "issued_on"],
        defaults: { node in
            ["region": .string(node), "themes": ["other"], "tags": [], "audiences": ["micro", "small", "individual"], "body": "", "doc_number": ""]
        })

    package static let serviceItem = RecordSchema(
        kind: .serviceItem,
        fields: ChangeContent.serviceItem.filter { $0.key != "status" },
        required: ["code", "name", "department", "handling_url"],
        defaults: { node in
            [
                "region": .string(node), "themes": ["resume_work"], "tags": [], "audiences": ["micro", "small", "individual"], "body": "",
                "fee": "免费", "materials": [], "policies": [], "time_limit_days": 0,
            ]
        })

    /// Validates a create (`partial == false`) or patch body; returns the normalised fields.
    package func validate(_ input: JSONValue, partial: Bool, node: String) throws -> [String: JSONValue] {
        guard case .object(let obj) = input else { throw NodeError.invalid("the body must be a JSON object") }
        var out: [String: JSONValue] = [:]
        var problems: [String: String] = [:]
        for (k, v) in obj {
            if Self.readOnly.contains(k) { problems[k] = "is read-only"; continue }
            guard let type = fields[k] else { problems[k] = "is not a field of \(kind.rawValue)"; continue }
            do { out[k] = try Self.check(v, type: type, field: k) } catch let e as NodeError { problems[k] = e.message }
        }
        if !partial {
            for r in required where obj[r] == nil || obj[r] == .null { problems[r] = problems[r] ?? "is required" }
            for (k, v) in defaults(node) where out[k] == nil && problems[k] == nil { out[k] = v }
            if out["effective_from"] == nil, kind == .policy, let issued = out["issued_on"] { out["effective_from"] = issued }
        }
        if partial, out.isEmpty, problems.isEmpty { problems["body"] = "names no field to change" }
        if let from = out["effective_from"]?.stringValue, let to = out["effective_to"]?.stringValue, !to.isEmpty, to < from {
            problems["effective_to"] = "is before effective_from"
        }
        if let from = out["apply_from"]?.stringValue, let to = out["apply_to"]?.stringValue, !from.isEmpty, !to.isEmpty, to < from {
            problems["apply_to"] = "is before apply_from"
        }
        if !problems.isEmpty {
            let summary = problems.keys.sorted().map { "\($0) \(problems[$0]!)" }.joined(separator: "; ")
            throw NodeError.invalid(summary, fields: problems)
        }
        return out
    }

    package static func check(_ v: JSONValue, type: FieldType, field: String) throws -> JSONValue {
        do { return try type.check(v, field: field) } catch { throw NodeError.invalid(error.message) }
    }
}
