import Foundation

/// The policy field `application`: how to apply, which materials to bring, and the questions to answer.
public struct ApplicationForm: Sendable, Hashable {
    /// Apply (fill in the form) or confirm (免申即享).
    public var mode: ApplicationMode
    /// The materials the applicant must provide, each 1-200 characters; at most `maxMaterials`.
    public var materials: [String]
    /// The questions; always empty for `confirm`.
    public var fields: [ApplicationField]

    /// The most questions one form may have.
    public static let maxFields = 50
    /// The most materials one form may list.
    public static let maxMaterials = 50
    /// The most choices one `choice` field may offer.
    public static let maxChoices = 100
    /// The longest text answer, in Characters.
    public static let maxTextAnswer = 2000

    /// Creates a form; call `parse` for untrusted input.
    public init(mode: ApplicationMode, materials: [String] = [], fields: [ApplicationField] = []) {
        self.mode = mode
        self.materials = materials
        self.fields = fields
    }

    /// Parses and validates the JSON object: `mode` required; `materials` and `fields` optional (absent is empty);
    /// field ids `[a-z0-9_]+` (≤ 64 bytes) and unique; labels 1-100 characters; `choices` non-empty, unique and only on
    /// `choice` fields; at most 50 fields; no fields in `confirm` mode; unknown keys refused. Throws the first issue found.
    public static func parse(_ v: JSONValue, field: String = "application") throws(ValidationIssue) -> ApplicationForm {
        guard let o = v.objectValue else { throw ValidationIssue(field: field, message: "must be an object") }
        if let k = o.keys.sorted().first(where: { !["mode", "materials", "fields"].contains($0) }) {
            throw ValidationIssue(field: "\(field).\(k)", message: "is not a known key")
        }
        guard let m = o["mode"]?.stringValue, let mode = ApplicationMode(rawValue: m) else {
            throw ValidationIssue(field: "\(field).mode", message: "must be apply or confirm")
        }
        var materials: [String] = []
        if let x = o["materials"], x != .null {
            guard let list = x.stringArray else {
                throw ValidationIssue(field: "\(field).materials", message: "must be a list of strings")
            }
            guard list.count <= maxMaterials else {
                throw ValidationIssue(field: "\(field).materials", message: "must have at most \(maxMaterials) items")
            }
            for (i, s) in list.enumerated() {
                if let issue = Validation.text(s, field: "\(field).materials[\(i)]", min: 1, max: 200) { throw issue }
            }
            materials = list
        }
        var fields: [ApplicationField] = []
        if let x = o["fields"], x != .null {
            guard let list = x.arrayValue else { throw ValidationIssue(field: "\(field).fields", message: "must be a list") }
            guard list.count <= maxFields else {
                throw ValidationIssue(field: "\(field).fields", message: "must have at most \(maxFields) fields")
            }
            if mode == .confirm, !list.isEmpty {
                throw ValidationIssue(field: "\(field).fields", message: "must be empty in confirm mode")
            }
            for (i, item) in list.enumerated() {
                let f = try parseField(item, field: "\(field).fields[\(i)]")
                guard !fields.contains(where: { $0.id == f.id }) else {
                    throw ValidationIssue(field: "\(field).fields[\(i)].id", message: "duplicates an earlier field id")
                }
                fields.append(f)
            }
        }
        return ApplicationForm(mode: mode, materials: materials, fields: fields)
    }

    static func parseField(_ v: JSONValue, field: String) throws(ValidationIssue) -> ApplicationField {
        guard let o = v.objectValue else { throw ValidationIssue(field: field, message: "must be an object") }
        if let k = o.keys.sorted().first(where: { !["id", "label", "type", "choices", "required"].contains($0) }) {
            throw ValidationIssue(field: "\(field).\(k)", message: "is not a known key")
        }
        guard let id = o["id"]?.stringValue, (1...64).contains(id.utf8.count),
              id.utf8.allSatisfy({ Validation.isDigit($0) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == UInt8(ascii: "_") })
        else { throw ValidationIssue(field: "\(field).id", message: "must be 1-64 characters of a-z, 0-9 and _") }
        guard let label = o["label"]?.stringValue else {
            throw ValidationIssue(field: "\(field).label", message: "must be a string")
        }
        if let issue = Validation.text(label, field: "\(field).label", min: 1, max: 100) { throw issue }
        guard let t = o["type"]?.stringValue, let kind = ApplicationField.Kind(rawValue: t) else {
            throw ValidationIssue(field: "\(field).type", message: "must be text, number, date or choice")
        }
        var required = true
        if let r = o["required"], r != .null {
            guard case .bool(let b) = r else { throw ValidationIssue(field: "\(field).required", message: "must be true or false") }
            required = b
        }
        var choices: [String]? = nil
        let c = o["choices"].flatMap { $0 == .null ? nil : $0 }
        if kind == .choice {
            guard let list = c?.stringArray, !list.isEmpty, list.count <= maxChoices else {
                throw ValidationIssue(field: "\(field).choices", message: "must be a list of 1-\(maxChoices) strings for a choice field")
            }
            for (i, s) in list.enumerated() {
                if let issue = Validation.text(s, field: "\(field).choices[\(i)]", min: 1, max: 100) { throw issue }
                if list[..<i].contains(s) { throw ValidationIssue(field: "\(field).choices[\(i)]", message: "is listed twice") }
            }
            choices = list
        } else if c != nil {
            throw ValidationIssue(field: "\(field).choices", message: "is only for choice fields")
        }
        return ApplicationField(id: id, label: label, type: kind, choices: choices, required: required)
    }

    /// The JSON object; `parse(json)` gives back an equal value.
    public var json: JSONValue {
        .object(["mode": .string(mode.rawValue), "materials": .strings(materials), "fields": .array(fields.map(\.json))])
    }

    /// Checks an applicant's answers: field id → Chinese message, empty when all is well. Unknown ids, missing required
    /// answers (absent, `null` or blank) and answers of the wrong kind are reported; in `confirm` mode every answer is
    /// refused, since nothing is asked.
    public func validate(answers: [String: JSONValue]) -> [String: String] {
        var errors: [String: String] = [:]
        if mode == .confirm {
            for k in answers.keys { errors[k] = "免申即享无需填写内容" }
            return errors
        }
        for k in answers.keys where !fields.contains(where: { $0.id == k }) { errors[k] = "表单中没有此项" }
        for f in fields {
            let answer = answers[f.id]
            let blank = answer == nil || answer == .null
                || answer?.stringValue.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } == true
            if blank {
                if f.required { errors[f.id] = "请填写“\(f.label)”" }
                continue
            }
            if let message = Self.check(answer!, against: f) { errors[f.id] = message }
        }
        return errors
    }

    /// A Chinese message when `answer` (not blank) is not acceptable for `field`, nil when it is.
    static func check(_ answer: JSONValue, against field: ApplicationField) -> String? {
        switch field.type {
        case .text:
            guard let s = answer.stringValue else { return "“\(field.label)”应填写文字" }
            if Validation.text(s, field: field.id, min: 1, max: maxTextAnswer) != nil {
                return "“\(field.label)”不能超过\(maxTextAnswer)字，且不能包含控制字符"
            }
            return nil
        case .number:
            if answer.intValue != nil { return nil }
            if let s = answer.stringValue, isDecimal(s) { return nil }
            return "“\(field.label)”应填写数字"
        case .date:
            if let s = answer.stringValue, SimpleDate(s) != nil { return nil }
            return "“\(field.label)”应填写日期（YYYY-MM-DD）"
        case .choice:
            if let s = answer.stringValue, field.choices?.contains(s) == true { return nil }
            return "“\(field.label)”应从给定选项中选择"
        }
    }

    /// `-?digits(.digits)?`, at most 30 bytes: what a form's number box sends.
    static func isDecimal(_ s: String) -> Bool {
        var b = Array(s.utf8)[...]
        guard !b.isEmpty, b.count <= 30 else { return false }
        if b.first == UInt8(ascii: "-") { b = b.dropFirst() }
        let parts = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(Validation.isDigit) }
    }
}
