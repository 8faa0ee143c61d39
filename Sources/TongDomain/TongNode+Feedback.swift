import Crypto
import Foundation
import TongCore
import TongStore

/// What a submission returns.
public struct Submission: Sendable {
    /// The feedback record's id.
    public var id: String
    /// The secret receipt code: the only key to the submission's status.
    public var receipt: String
    /// Explicit warnings (e.g. an early pilot USCC whose check character does not match).
    public var warnings: [String]
}

extension TongNode {
    /// The forms of 互动通, and the ratings of 好差评.
    package static let forms: Set<String> = ["suggestion", "consultation", "complaint", "evaluation"]
    package static let ratingNames = [5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"]

    /// Validates and seals a submission to the addressed department, stores it with its receipt
    /// hash in one transaction, and routes it along the tree (rule 4).
    public func submitFeedback(_ body: JSONValue) throws -> Submission {
        guard case .object(let o) = body else { throw NodeError.invalid("the body must be a JSON object") }
        var problems: [String: String] = [:]
        let allowed: Set<String> = ["kind", "department", "about", "title", "content", "contact", "rating", "survey", "answers"]
        for k in o.keys where !allowed.contains(k) { problems[k] = "is not a feedback field" }
        let form = o["kind"]?.stringValue ?? ""
        let isSurvey = form == "survey"
        if !Self.forms.contains(form), !isSurvey { problems["kind"] = "must be suggestion, consultation, complaint or evaluation" }
        let dept = o["department"]?.stringValue ?? ""
        var sealKey: String?
        if let d = department(dept) {
            sealKey = d.state["seal_key"]?.stringValue
        } else {
            problems["department"] = "is not a department in the directory"
        }
        var about = ""
        if let a = o["about"], a != .null {
            if let s = a.stringValue, let r = try db.record(s), [.policy, .serviceItem].contains(r.state.kind) {
                about = s
            } else {
                problems["about"] = "must be the id of a policy or service item"
            }
        }
        var sealed: [String: JSONValue] = [:]
        var survey = ""
        if isSurvey {
            if let sid = o["survey"]?.stringValue, let s = try db.record(sid), s.state.kind == .survey, s.state["department"]?.stringValue == dept {
                survey = sid
                do { sealed["answers"] = try Surveys.validateAnswers(o["answers"], survey: s.state) } catch let e as NodeError {
                    problems["answers"] = e.message
                }
            } else {
                problems["survey"] = "must be an open survey of that department"
            }
        } else {
            for (field, lo, hi) in [("title", 1, 100), ("content", 1, 2_000)] {
                let s = o[field]?.stringValue ?? ""
                if let issue = Validation.text(s, field: field, min: lo, max: hi) {
                    problems[field] = issue.message
                } else {
                    sealed[field] = .string(s)
                }
            }
        }
        var warnings: [String] = []
        if let c = o["contact"]?.objectValue {
            var contact: [String: JSONValue] = [:]
            for k in c.keys where !["name", "phone", "email", "uscc"].contains(k) { problems["contact.\(k)"] = "is not a contact field" }
            let name = c["name"]?.stringValue ?? ""
            if let issue = Validation.text(name, field: "name", min: 1, max: 50) {
                problems["contact.name"] = issue.message
            } else {
                contact["name"] = .string(name)
            }
            let phone = c["phone"]?.stringValue ?? ""
            if Validation.phone(phone) {
                contact["phone"] = .string(phone)
            } else {
                problems["contact.phone"] = "must be a mainland mobile or landline number"
            }
            if let e = c["email"], e != .null, e != "" {
                if let s = e.stringValue, Validation.email(s) {
                    contact["email"] = .string(s)
                } else {
                    problems["contact.email"] = "is not an email address"
                }
            }
            if let u = c["uscc"], u != .null, u != "" {
                let s = u.stringValue ?? ""
                switch USCC.check(s) {
                case .valid: contact["uscc"] = .string(s)
                case .checkMismatch(let expected):
                    // Some early pilot codes are real yet fail the check: keep them, flagged, and say so.
                    contact["uscc"] = .string(s)
                    contact["uscc_warning"] = .string("check character mismatch (expected \(expected))")
                    warnings.append(
                        "uscc: check character does not match (expected \(expected)); accepted as an early pilot code, flagged for the department")
                case .malformed(let why): problems["contact.uscc"] = "is not a unified social credit code: \(why)"
                }
            }
            sealed["contact"] = .object(contact)
        } else if !isSurvey {
            problems["contact"] = "is required (name and phone)"
        }
        if form == "evaluation" {
            if let r = o["rating"]?.intValue, (1...5).contains(r) {
                sealed["rating"] = .int(r)
            } else {
                problems["rating"] = "must be 1 (非常不满意) to 5 (非常满意)"
            }
        } else if o["rating"] != nil, o["rating"] != .null {
            problems["rating"] = "is only for evaluations"
        }
        if !problems.isEmpty {
            throw NodeError.invalid(problems.keys.sorted().map { "\($0) \(problems[$0]!)" }.joined(separator: "; "), fields: problems)
        }
        guard let sealKey, let target = Validation.departmentID(dept)?.node else { throw NodeError.invalid("department has no sealing key") }
        let receipt = Self.newReceipt()
        // The id is derived from our next counter inside the write; seal with a random
        // per-record nonce id instead so the sealed blob can be bound to it before writing.
        let recordID = "\(id)-f\(Self.randomHex(8))"
        let blob = try Sealing.seal(.object(sealed), to: sealKey, aad: recordID)
        let now = Self.now()
        let fields: [String: JSONValue] = [
            "form": .string(form), "department": .string(dept), "about": .string(about), "sealed": .string(blob),
            "submitted_at": .string(Self.iso8601(ms: now)), "submitted_on": .string(Self.day(ms: now)), "survey": .string(survey),
        ]
        var w = LocalWrite(id: recordID, kind: .feedback, owner: id, scope: .route(from: id, to: target), fields: fields, mustExist: false)
        w.receiptHash = Self.receiptHash(receipt)
        try write([w])
        return Submission(id: recordID, receipt: receipt, warnings: warnings)
    }

    /// Status (and reply, opened with this node's key) of a submission, by receipt.
    public func receiptStatus(_ receipt: String) throws -> JSONValue {
        guard receipt.utf8.count <= 100, let r = try db.feedback(receiptHash: Self.receiptHash(receipt)) else {
            throw NodeError.notFound("no submission with this receipt here")
        }
        let v = r.state.values
        var out: [String: JSONValue] = [
            "id": .string(r.state.id), "kind": v["form"] ?? "", "department": v["department"] ?? "",
            "status": v["status"] ?? "submitted", "submitted_at": v["submitted_at"] ?? "",
        ]
        if let d = v["department"]?.stringValue, let dep = try db.record(d) { out["department_name"] = dep.state["name"] ?? "" }
        if let s = v["reply_sealed"]?.stringValue, let reply = Sealing.open(s, with: nodeSealKey, aad: r.state.id) {
            out["reply"] = reply["content"] ?? ""
            out["replied_at"] = v["replied_at"] ?? ""
        }
        return .object(out)
    }

    /// A department's inbox, decrypted with its key, overdue first (rule 4: only here is it readable).
    public func inbox(department dept: String, status: String?, by who: Principal, today: String? = nil) throws -> [JSONValue] {
        try authorizeDepartment(dept, who)
        guard let key = departmentSealKey(dept) else { throw NodeError.notFound("department \(dept) is not one of this node's") }
        let today = today ?? Self.day(ms: Self.now())
        var items: [JSONValue] = []
        for r in try db.feedback(department: dept, status: status) {
            let v = r.state.values
            let st = v["status"]?.stringValue ?? "submitted"
            var o: [String: JSONValue] = [
                "id": .string(r.state.id), "kind": v["form"] ?? "", "department": .string(dept), "about": v["about"] ?? "",
                "status": .string(st), "submitted_at": v["submitted_at"] ?? "", "from_node": .string(r.state.owner),
                "due_on": v["due_on"] ?? "", "survey": v["survey"] ?? "",
            ]
            let due = v["due_on"]?.stringValue ?? ""
            o["overdue"] = .bool(!due.isEmpty && due < today && FeedbackFields.isOpen(status: st))
            if let s = v["sealed"]?.stringValue, let plain = Sealing.open(s, with: key, aad: r.state.id)?.objectValue {
                for (k, x) in plain { o[k] = x }
            } else {
                o["unreadable"] = true
            }
            if let s = v["reply_sealed"]?.stringValue { o["replied"] = .bool(!s.isEmpty); o["replied_at"] = v["replied_at"] ?? "" }
            items.append(.object(o))
        }
        items.sort { a, b in
            let ao = a["overdue"] == .bool(true), bo = b["overdue"] == .bool(true)
            if ao != bo { return ao }
            return (a["submitted_at"]?.stringValue ?? "") > (b["submitted_at"]?.stringValue ?? "")
        }
        return items
    }

    /// A department answers: the reply is sealed to the submitting node and travels back.
    public func reply(feedback fid: String, body: JSONValue, by who: Principal) throws -> JSONValue {
        guard let r = try db.record(fid), r.state.kind == .feedback, let dept = r.state["department"]?.stringValue else {
            throw NodeError.notFound("no feedback \(fid) here")
        }
        try authorizeDepartment(dept, who)
        guard departmentSealKey(dept) != nil else { throw NodeError.forbidden("feedback \(fid) is not addressed to this node") }
        guard case .object(let o) = body, let content = o["content"]?.stringValue else {
            throw NodeError.invalid("content is required", fields: ["content": "is required"])
        }
        if let issue = Validation.text(content, field: "content", min: 1, max: 2_000) {
            throw NodeError.invalid("content \(issue.message)", fields: ["content": issue.message])
        }
        let close = o["close"] == .bool(true)
        guard let submitter = try db.record(r.state.owner), let key = submitter.state["seal_key"]?.stringValue else {
            throw NodeError.conflict("the submitting node's key is not in the directory yet")
        }
        let sealed = try Sealing.seal(["content": .string(content)], to: key, aad: fid)
        let now = Self.now()
        try write([
            LocalWrite(
                id: fid, kind: .feedback, owner: r.state.owner, scope: .route(from: r.state.owner, to: id),
                fields: [
                    "reply_sealed": .string(sealed), "replied_at": .string(Self.iso8601(ms: now)),
                    "status": .string(close ? "closed" : "replied"),
                ])
        ])
        return ["id": .string(fid), "status": .string(close ? "closed" : "replied")]
    }

    package func authorizeDepartment(_ dept: String, _ who: Principal) throws {
        switch who {
        case .anonymous: throw NodeError.unauthorized("a department token is required")
        case .department(let d) where d == dept: return
        case .admin where Validation.departmentID(dept)?.node == id: return
        default: throw NodeError.forbidden("this token may not read or answer \(dept)'s feedback")
        }
    }

    /// Acknowledges feedback that reached its department's node: `delivered` with a due date, or
    /// `undeliverable` when the department no longer exists. Called by the sync service.
    package func acknowledgeArrivals() throws -> Int {
        let pending = try db.undelivered(departmentsOf: id)
        guard !pending.isEmpty else { return 0 }
        let now = Self.now()
        let today = Self.day(ms: now)
        let writes: [LocalWrite] = pending.map { r in
            let dept = r.state["department"]?.stringValue ?? ""
            let form = r.state["form"]?.stringValue ?? "suggestion"
            var f: [String: JSONValue]
            if form == ApplicationTimeline.form {
                // An application (办理): the node's acknowledgement is a department move, whose due
                // date restarts after each resubmission (补正).
                var moves = r.state["department_moves"]?.arrayValue ?? []
                let latest = ApplicationTimeline.entries(r.state.values).map(\.at).max() ?? 0
                let due = Self.addWorkingDays(config.dueDays[form] ?? 20, to: today, holidays: config.holidays, workdays: config.workdays)
                moves.append(["to": "delivered", "at": .int(max(now, latest + 1)), "due_on": .string(due)])
                return LocalWrite(id: r.state.id, kind: .feedback, owner: r.state.owner, scope: .route(from: r.state.owner, to: id),
                                  fields: ["department_moves": .array(moves), "delivered_at": .string(Self.iso8601(ms: now)), "due_on": .string(due)])
            }
            if departmentSealKey(dept) != nil, department(dept) != nil {
                let days = config.dueDays[form] ?? 15
                f = [
                    "status": "delivered", "delivered_at": .string(Self.iso8601(ms: now)),
                    "due_on": .string(Self.addWorkingDays(days, to: today, holidays: config.holidays, workdays: config.workdays)),
                ]
            } else {
                f = ["status": "undeliverable", "undeliverable": .string("department \(dept) no longer exists")]
            }
            return LocalWrite(id: r.state.id, kind: .feedback, owner: r.state.owner, scope: .route(from: r.state.owner, to: id), fields: f)
        }
        try write(writes)
        return writes.count
    }

    package static func newReceipt() -> String { "TONG-" + randomHex(16).uppercased() }

    package static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    package static func receiptHash(_ r: String) -> String {
        SHA256.hash(data: Data(r.uppercased().utf8)).map { String(format: "%02x", $0) }.joined()
    }

    package static func day(ms: Int64) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.locale = Locale(identifier: "en_US_POSIX")
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// Adds working days: Monday to Friday except `holidays`, plus the weekend days in `workdays`.
    package static func addWorkingDays(_ n: Int, to day: String, holidays: Set<String> = [], workdays: Set<String> = []) -> String {
        guard let d = SimpleDate(day) else { return day }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        var date = cal.date(from: DateComponents(year: d.year, month: d.month, day: d.day))!
        var left = n
        while left > 0 {
            date = cal.date(byAdding: .day, value: 1, to: date)!
            let c = cal.dateComponents([.year, .month, .day, .weekday], from: date)
            let text = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            let weekday = c.weekday != 1 && c.weekday != 7
            if workdays.contains(text) || (weekday && !holidays.contains(text)) { left -= 1 }
        }
        let c = cal.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }
}
