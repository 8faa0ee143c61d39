import Foundation

/// The type and bounds of one record field, as the API accepts it and as every receiver checks
/// it again in a received change (`ChangeContent`): one table, so a field a local write could
/// not store is never applied from a peer either.
public enum FieldRule: Sendable {
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
    /// `Eligibility` (送达): who a record is for; `null` or `{}` for everyone.
    case eligibility
    /// `ApplicationForm` (办理): how a policy is applied for; `null` for not at all.
    case application
    /// One of these strings.
    case oneOf(Set<String>)
    /// Any JSON, at most this many bytes in canonical form (sealed blobs, moves, figures).
    case opaque(maxBytes: Int)
    /// A feedback item's reply history: a list of at most `FeedbackFields.maxReplies` objects
    /// with exactly `at` (ISO 8601 UTC text), `department` (a department id) and the reply sealed
    /// twice, `to_submitter` and `to_department` (base64 text, at most 64 KiB each).
    case replies

    /// Checks `v` and returns the normalised value (what is stored).
    /// - Throws: `ValidationIssue` naming `field`, with the rule in English.
    public func check(_ v: JSONValue, field: String) throws(ValidationIssue) -> JSONValue {
        func fail(_ m: String) -> ValidationIssue { ValidationIssue(field: field, message: m) }
        func text(_ min: Int, _ max: Int) throws(ValidationIssue) -> JSONValue {
            guard let s = v.stringValue else { throw fail("must be a string") }
            if let issue = Validation.text(s, field: field, min: min, max: max) { throw issue }
            return .string(s)
        }
        switch self {
        case .text(let min, let max): return try text(min, max)
        case .optionalText(let max): return v == .null ? .string("") : try text(0, max)
        case .docNumber:
            guard let s = v.stringValue else { throw fail("must be a string") }
            if s.isEmpty { return "" }
            guard let n = DocNumber.normalize(s) else { throw fail("is not a document number (e.g. 国办发〔2020〕6号)") }
            return .string(n)
        case .date:
            guard let s = v.stringValue else { throw fail("must be a date written YYYY-MM-DD (e.g. 2020-02-06)") }
            if let problem = SimpleDate.problem(s) { throw fail(problem) }
            return .string(s)
        case .optionalDate:
            if v == .null || v == "" { return "" }
            guard let s = v.stringValue else { throw fail("must be a date written YYYY-MM-DD (e.g. 2020-02-06)") }
            if let problem = SimpleDate.problem(s) { throw fail(problem) }
            return .string(s)
        case .url:
            guard let s = v.stringValue, Validation.url(s) else { throw fail("must be an http(s) URL") }
            return .string(s)
        case .optionalURL:
            if v == .null || v == "" { return "" }
            guard let s = v.stringValue, Validation.url(s) else { throw fail("must be an http(s) URL") }
            return .string(s)
        case .themes:
            guard let a = v.stringArray, !a.isEmpty, a.count <= 7, a.allSatisfy({ Theme(rawValue: $0) != nil }) else {
                throw fail("must be a non-empty list of theme codes (\(Theme.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return .strings(Self.unique(a))
        case .audiences:
            guard let a = v.stringArray, !a.isEmpty, a.count <= 4, a.allSatisfy({ Audience(rawValue: $0) != nil }) else {
                throw fail("must be a non-empty list of audience codes (micro, small, individual, medium)")
            }
            return .strings(Self.unique(a))
        case .stringList(let maxItems, let maxLength):
            guard let a = v.stringArray, a.count <= maxItems else { throw fail("must be a list of at most \(maxItems) strings") }
            for s in a {
                if let issue = Validation.text(s, field: field, min: 1, max: maxLength) { throw issue }
            }
            return .strings(a)
        case .int(let min, let max):
            guard let i = v.intValue, i >= min, i <= max else { throw fail("must be an integer \(min)-\(max)") }
            return .int(i)
        case .department:
            guard let s = v.stringValue, Validation.departmentID(s) != nil else { throw fail("must be a department id like 330100-hrss") }
            return .string(s)
        case .region:
            guard let s = v.stringValue, Validation.divisionCode(s) else { throw fail("must be a six-digit division code") }
            return .string(s)
        case .eligibility:
            if v == .null { return .null }
            return try Eligibility.parse(v, field: field).json
        case .application:
            if v == .null { return .null }
            return try ApplicationForm.parse(v, field: field).json
        case .oneOf(let allowed):
            guard let s = v.stringValue, allowed.contains(s) else { throw fail("must be one of \(allowed.sorted().joined(separator: ", "))") }
            return v
        case .opaque(let maxBytes):
            guard CanonicalJSON.encode(v).count <= maxBytes else { throw fail("is larger than \(maxBytes) bytes") }
            return v
        case .replies:
            guard let list = v.arrayValue, list.count <= FeedbackFields.maxReplies else {
                throw fail("must be a list of at most \(FeedbackFields.maxReplies) replies")
            }
            for e in list {
                guard let o = e.objectValue, Set(o.keys) == ["at", "department", "to_submitter", "to_department"],
                    let at = o["at"]?.stringValue, (20...40).contains(at.utf8.count), at.hasSuffix("Z"),
                    let d = o["department"]?.stringValue, Validation.departmentID(d) != nil,
                    let a = o["to_submitter"]?.stringValue, (1...(64 << 10)).contains(a.utf8.count),
                    let b = o["to_department"]?.stringValue, (1...(64 << 10)).contains(b.utf8.count)
                else { throw fail("each reply must be {at, department, to_submitter, to_department}") }
            }
            return v
        }
    }

    /// `a` without repeats, first occurrence kept.
    static func unique(_ a: [String]) -> [String] {
        var seen = Set<String>()
        return a.filter { seen.insert($0).inserted }
    }
}
