/// What a received change may contain, kind by kind: the API's own field rules (`FieldRule`)
/// for policies and service items, and bounded shapes for the records nodes write themselves.
/// A receiver checks every change of a set with it before merging (`ReplicaRules.admit`), so a
/// bug or a stolen key at one node cannot spread a wrongly typed, oversized or unsafe value
/// (a 5-million-character body, `title: 12345`, a `javascript:` URL) to every holder.
public enum ChangeContent {
    /// Policy fields (contract.md), plus `status`.
    public static let policy: [String: FieldRule] = [
        "title": .text(min: 1, max: 200), "doc_number": .docNumber, "department": .department, "region": .region,
        "issued_on": .date, "effective_from": .date, "effective_to": .optionalDate, "themes": .themes,
        "tags": .stringList(maxItems: 20, maxLength: 32), "audiences": .audiences, "body": .optionalText(max: 100_000),
        "source_url": .optionalURL, "eligibility": .eligibility, "apply_from": .optionalDate, "apply_to": .optionalDate,
        "application": .application, "status": .oneOf(["active", "withdrawn"]),
    ]

    /// Service-item fields (contract.md), plus `status`.
    public static let serviceItem: [String: FieldRule] = [
        "code": .text(min: 1, max: 64), "name": .text(min: 1, max: 200), "department": .department, "region": .region,
        "audiences": .audiences, "handling_url": .url, "time_limit_days": .int(min: 0, max: 3650),
        "fee": .optionalText(max: 64), "materials": .stringList(maxItems: 50, maxLength: 200),
        "policies": .stringList(maxItems: 50, maxLength: 64), "body": .optionalText(max: 50_000), "themes": .themes,
        "tags": .stringList(maxItems: 20, maxLength: 32), "eligibility": .eligibility, "status": .oneOf(["active", "withdrawn"]),
    ]

    /// Survey fields.
    public static let survey: [String: FieldRule] = [
        "title": .text(min: 1, max: 200), "department": .department, "region": .region, "themes": .themes,
        "tags": .stringList(maxItems: 20, maxLength: 32), "body": .optionalText(max: 10_000), "questions": .opaque(maxBytes: 64 << 10),
        "status": .oneOf(["active", "withdrawn", "closed"]), "closes_on": .optionalDate,
    ]

    /// Feedback and application fields: the routing header, sealed blobs and moves, bounded.
    public static let feedback: [String: FieldRule] = [
        "form": .oneOf(["suggestion", "consultation", "complaint", "evaluation", "survey", ApplicationTimeline.form]),
        "department": .department, "about": .optionalText(max: 64), "sealed": .text(min: 1, max: 256 << 10),
        "submitted_at": .text(min: 1, max: 40), "submitted_on": .optionalDate, "survey": .optionalText(max: 64),
        "applicant_moves": .opaque(maxBytes: 256 << 10), "department_moves": .opaque(maxBytes: 256 << 10),
        "status": .oneOf(["submitted", "delivered", "replied", "closed", "undeliverable", "transferred"]),
        "reply_sealed": .text(min: 1, max: 64 << 10),
        "replied_at": .optionalText(max: 40), "delivered_at": .optionalText(max: 40), "closed_at": .optionalText(max: 40),
        "due_on": .optionalDate, "undeliverable": .optionalText(max: 200), "replies": .replies,
        "receipt_sealed": .optionalText(max: 16 << 10), "transferred_from": .optionalText(max: 64),
        "transfers": .opaque(maxBytes: 64 << 10),
        "transfer_status": .oneOf(["submitted", "delivered", "replied", "closed", "undeliverable", "transferred"]),
    ]

    /// Directory and statistics records: names bounded, everything else bounded in size (the
    /// directory grows fields as the federation learns, e.g. key histories).
    public static let directoryName = FieldRule.text(min: 1, max: 100)

    /// Why `c` may not be applied, or nil. Unknown fields of policies, service items, surveys
    /// and feedback are refused; directory and statistics fields are bounded in size.
    public static func refusal(_ c: Change) -> String? {
        let table: [String: FieldRule]?
        switch c.kind {
        case .policy: table = policy
        case .serviceItem: table = serviceItem
        case .survey: table = survey
        case .feedback: table = feedback
        case .node, .department, .stats: table = nil
        }
        for (name, value) in c.fields {
            if let table {
                guard let rule = table[name] else { return "\(name) is not a field of \(c.kind.rawValue)" }
                do {
                    let normal = try rule.check(value, field: name)
                    // The owner stores normalised values; anything else was not written by the API.
                    if normal != value, !(value == .null && normal == "") { return "\(name) is not in its normal form" }
                } catch {
                    return "\(name) \(error.message)"
                }
            } else {
                if name == "name", (try? directoryName.check(value, field: name)) == nil { return "name must be text of 1-100 characters" }
                let limit = c.kind == .stats ? 4 << 20 : 64 << 10
                if CanonicalJSON.encode(value).count > limit { return "\(name) is larger than \(limit) bytes" }
            }
        }
        return nil
    }
}
