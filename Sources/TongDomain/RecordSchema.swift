import Foundation
import TongCore

/// What the API accepts for each writable kind: field by field, so validation is one table,
/// not a function per kind.
package struct RecordSchema: Sendable {
    package enum FieldType: Sendable {
        case text(min: Int, max: Int)
        case optionalText(max: Int)
        case docNumber
        case date
        case optionalDate
        case url
        case optionalURL
        case themes
        case audiences
        case stringList(maxItems: Int, maxLength: Int)
        case int(min: Int64, max: Int64)
        case department
        case region
        /// `Eligibility` (送达): who a policy or service item is for; `null` or `{}` for everyone.
        case eligibility
        /// `ApplicationForm` (办理): how a policy is applied for; `null` for not at all.
        case application
    }

    package var kind: RecordKind
    package var fields: [String: FieldType]
    package var required: Set<String>
    package var defaults: @Sendable (String) -> [String: JSONValue]

    /// Fields the server sets; a client may not write them.
    package static let readOnly: Set<String> = ["id", "owner", "status", "version", "conflicts", "updated_at"]

    package static let policy = RecordSchema(
        kind: .policy,
        fields: [
            "title": .text(min: 1, max: 200), "doc_number": .docNumber, "department": .department, "region": .region,
            "issued_on": .date, "effective_from": .date, "effective_to": .optionalDate, "themes": .themes,
            "tags": .stringList(maxItems: 20, maxLength: 32), "audiences": .audiences, "body": .optionalText(max: 100_000),
            "source_url": .optionalURL, "eligibility": .eligibility, "apply_from": .optionalDate, "apply_to": .optionalDate,
            "application": .application,
        ],
        required: ["title", "department", "issued_on"],
        defaults: { node in
            ["region": .string(node), "themes": ["other"], "tags": [], "audiences": ["micro", "small", "individual"], "body": "", "doc_number": ""]
        })

    package static let serviceItem = RecordSchema(
        kind: .serviceItem,
        fields: [
            "code": .text(min: 1, max: 64), "name": .text(min: 1, max: 200), "department": .department, "region": .region,
            "audiences": .audiences, "handling_url": .url, "time_limit_days": .int(min: 0, max: 3650),
            "fee": .optionalText(max: 64), "materials": .stringList(maxItems: 50, maxLength: 200),
            "policies": .stringList(maxItems: 50, maxLength: 64), "body": .optionalText(max: 50_000), "themes": .themes,
            "tags": .stringList(maxItems: 20, maxLength: 32), "eligibility": .eligibility,
        ],
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
        func text(_ min: Int, _ max: Int) throws -> JSONValue {
            guard let s = v.stringValue else { throw NodeError.invalid("must be a string") }
            if let issue = Validation.text(s, field: field, min: min, max: max) { throw NodeError.invalid(issue.message) }
            return .string(s)
        }
        switch type {
        case .text(let min, let max): return try text(min, max)
        case .optionalText(let max): return v == .null ? .string("") : try text(0, max)
        case .docNumber:
            guard let s = v.stringValue else { throw NodeError.invalid("must be a string") }
            if s.isEmpty { return "" }
            guard let n = DocNumber.normalize(s) else { throw NodeError.invalid("is not a document number (e.g. 国办发〔2020〕6号)") }
            return .string(n)
        case .date:
            guard let s = v.stringValue, Validation.date(s) else { throw NodeError.invalid("must be a date YYYY-MM-DD") }
            return .string(s)
        case .optionalDate:
            if v == .null || v == "" { return "" }
            guard let s = v.stringValue, Validation.date(s) else { throw NodeError.invalid("must be a date YYYY-MM-DD") }
            return .string(s)
        case .url:
            guard let s = v.stringValue, Validation.url(s) else { throw NodeError.invalid("must be an http(s) URL") }
            return .string(s)
        case .optionalURL:
            if v == .null || v == "" { return "" }
            guard let s = v.stringValue, Validation.url(s) else { throw NodeError.invalid("must be an http(s) URL") }
            return .string(s)
        case .themes:
            guard let a = v.stringArray, !a.isEmpty, a.count <= 7, a.allSatisfy({ Theme(rawValue: $0) != nil }) else {
                throw NodeError.invalid("must be a non-empty list of theme codes (\(Theme.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return .strings(Array(NSOrderedSet(array: a)) as! [String])
        case .audiences:
            guard let a = v.stringArray, !a.isEmpty, a.count <= 4, a.allSatisfy({ Audience(rawValue: $0) != nil }) else {
                throw NodeError.invalid("must be a non-empty list of audience codes (micro, small, individual, medium)")
            }
            return .strings(Array(NSOrderedSet(array: a)) as! [String])
        case .stringList(let maxItems, let maxLength):
            guard let a = v.stringArray, a.count <= maxItems else { throw NodeError.invalid("must be a list of at most \(maxItems) strings") }
            for s in a {
                if let issue = Validation.text(s, field: field, min: 1, max: maxLength) { throw NodeError.invalid(issue.message) }
            }
            return .strings(a)
        case .int(let min, let max):
            guard let i = v.intValue, i >= min, i <= max else { throw NodeError.invalid("must be an integer \(min)-\(max)") }
            return .int(i)
        case .department:
            guard let s = v.stringValue, Validation.departmentID(s) != nil else {
                throw NodeError.invalid("must be a department id like 330100-hrss")
            }
            return .string(s)
        case .region:
            guard let s = v.stringValue, Validation.divisionCode(s) else { throw NodeError.invalid("must be a six-digit division code") }
            return .string(s)
        case .eligibility:
            if v == .null { return .null }
            do { return try Eligibility.parse(v, field: field).json } catch { throw NodeError.invalid(error.message) }
        case .application:
            if v == .null { return .null }
            do { return try ApplicationForm.parse(v, field: field).json } catch { throw NodeError.invalid(error.message) }
        }
    }
}
