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
    /// True when this is the stored first answer to an earlier request with the same
    /// idempotency key, not a new submission.
    public var replayed = false
}

extension TongNode {
    /// The forms of 互动通, and the ratings of 好差评.
    package static let forms: Set<String> = ["suggestion", "consultation", "complaint", "evaluation"]
    package static let ratingNames = [5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"]

    /// Submits at most once per `idempotencyKey` (1-255 visible ASCII characters, chosen by the
    /// client; nil: no key). The first answer is stored, encrypted with a key derived from the
    /// idempotency key, in the submission's own transaction; a later request with the same key
    /// and the same body gets that answer again (`replayed`), with another body a 422.
    /// - Throws: `NodeError.invalid` for a malformed key, a key reused for another body, or the
    ///   body's own problems (see `submitFeedback(_:)`).
    public func submitFeedback(_ body: JSONValue, idempotencyKey: String?) throws -> Submission {
        guard let key = idempotencyKey else { return try submitFeedback(body) }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw NodeError.invalid(
                "Idempotency-Key must be 1-255 visible ASCII characters", fields: ["Idempotency-Key": "must be 1-255 visible ASCII characters"])
        }
        let keyHash = Self.idempotencyLookupHash(key)
        let requestHash = Self.hex(SHA256.hash(data: Data(CanonicalJSON.encode(body))))
        let sealKey = SymmetricKey(data: SHA256.hash(data: Data(("tong-idempotency-seal\u{0}" + key).utf8)))
        func replay(_ prior: (requestHash: String, sealedResponse: [UInt8])) throws -> Submission {
            guard prior.requestHash == requestHash else {
                throw NodeError.invalid(
                    "this Idempotency-Key was already used for a different request",
                    fields: ["Idempotency-Key": "was already used for a different request"])
            }
            guard let box = try? AES.GCM.SealedBox(combined: prior.sealedResponse), let plain = try? AES.GCM.open(box, using: sealKey),
                let o = try? JSONParser.parse(Array(plain)), let id = o["id"]?.stringValue, let receipt = o["receipt"]?.stringValue
            else { throw NodeError(.internal, "the stored answer for this Idempotency-Key cannot be read") }
            return Submission(id: id, receipt: receipt, warnings: o["warnings"]?.stringArray ?? [], replayed: true)
        }
        if let prior = try db.idempotentAnswer(keyHash: keyHash) { return try replay(prior) }
        do {
            return try submitFeedback(body, idempotency: (keyHash, requestHash, sealKey))
        } catch let e as NodeError where e.code.isCallerError {
            throw e
        } catch {
            // Two requests with one key at once: the second insert failed the whole write; answer as the first did.
            if let prior = try db.idempotentAnswer(keyHash: keyHash) { return try replay(prior) }
            throw error
        }
    }

    /// How long a submission's idempotency key is honoured (7 days, ms): a retry later than that files again.
    package static let idempotencyLifetimeMs: Int64 = 7 * 86_400_000

    /// Where a key's answer is stored: hex SHA-256 of a label and the key (the key itself is never stored).
    package static func idempotencyLookupHash(_ key: String) -> String {
        hex(SHA256.hash(data: Data(("tong-idempotency-lookup\u{0}" + key).utf8)))
    }

    /// Lower-case hex of bytes.
    package static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 { d.map { String(format: "%02x", $0) }.joined() }

    /// Validates and seals a submission to the addressed department, stores it with its receipt
    /// hash in one transaction, and routes it along the tree (rule 4).
    public func submitFeedback(_ body: JSONValue) throws -> Submission { try submitFeedback(body, idempotency: nil) }

    private func submitFeedback(_ body: JSONValue, idempotency: (keyHash: String, requestHash: String, key: SymmetricKey)?) throws -> Submission {
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
            // 好差评 needs only the rating: its title defaults to 评价 and the comment may be empty.
            let isEvaluation = form == "evaluation"
            for (field, lo, hi) in [("title", isEvaluation ? 0 : 1, 100), ("content", isEvaluation ? 0 : 1, 2_000)] {
                let given = o[field] ?? .null
                guard given == .null || given.stringValue != nil else { problems[field] = "must be a string"; continue }
                let s = given.stringValue ?? ""
                if let issue = Validation.text(s, field: field, min: lo, max: hi) {
                    problems[field] = issue.message
                } else {
                    sealed[field] = .string(field == "title" && s.isEmpty ? "评价" : s)
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
        } else if !isSurvey, form != "evaluation" {
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
        // What the receipt shows of the submission (no contact details), readable only here.
        var copy: [String: JSONValue] = [:]
        for k in ["title", "content", "rating"] { if let v = sealed[k] { copy[k] = v } }
        let ownCopy = try Sealing.seal(.object(copy), to: nodeSealKey.publicKey.x963Representation.base64EncodedString(), aad: recordID)
        let now = wallClock()
        let fields: [String: JSONValue] = [
            "form": .string(form), "department": .string(dept), "about": .string(about), "sealed": .string(blob),
            "submitted_at": .string(Self.iso8601(ms: now)), "submitted_on": .string(Self.day(ms: now)), "survey": .string(survey),
            "receipt_sealed": .string(ownCopy),
        ]
        var w = LocalWrite(id: recordID, kind: .feedback, owner: id, scope: .route(from: id, to: target), fields: fields, mustExist: false)
        w.receiptHash = Self.receiptHash(receipt)
        if let idempotency {
            let answer: JSONValue = ["id": .string(recordID), "receipt": .string(receipt), "warnings": .strings(warnings)]
            let sealed = try AES.GCM.seal(CanonicalJSON.encode(answer), using: idempotency.key).combined ?? Data()
            w.idempotency = (idempotency.keyHash, idempotency.requestHash, Array(sealed))
        }
        try write([w])
        return Submission(id: recordID, receipt: receipt, warnings: warnings)
    }

    /// Status (and reply, opened with this node's key) of a submission, by receipt. An
    /// application's receipt answers as `GET /api/v1/applications/{receipt}` does
    /// (`applicationStatus`): its workflow status (受理, 补正, 兑付 …) and history, not the
    /// routing status of the record that carries it.
    public func receiptStatus(_ receipt: String) throws -> JSONValue {
        guard receipt.utf8.count <= 100, let r = try db.feedback(receiptHash: Self.receiptHash(receipt)) else {
            throw NodeError.notFound("no submission with this receipt here")
        }
        if r.state["form"]?.stringValue == ApplicationTimeline.form { return try applicationStatus(receipt) }
        let v = r.state.values
        var out: [String: JSONValue] = [
            "id": .string(r.state.id), "kind": v["form"] ?? "", "department": v["department"] ?? "",
            "status": v["status"] ?? "submitted", "submitted_at": v["submitted_at"] ?? "",
        ]
        if let d = v["department"]?.stringValue, let dep = try db.record(d) { out["department_name"] = dep.state["name"] ?? "" }
        let history = try replyHistory(r.state, key: nodeSealKey, sealedField: "to_submitter")
        if !history.isEmpty {
            out["replies"] = .array(history)
            out["reply"] = history.last?["content"] ?? ""
            out["replied_at"] = history.first?["at"] ?? ""
            out["last_replied_at"] = history.last?["at"] ?? ""
        }
        if let c = v["closed_at"]?.stringValue, !c.isEmpty { out["closed_at"] = .string(c) }
        if let s = v["receipt_sealed"]?.stringValue, let copy = Sealing.open(s, with: nodeSealKey, aad: r.state.id) { out["submitted"] = copy }
        if let transfers = v["transfers"]?.arrayValue, !transfers.isEmpty {
            out["transfers"] = .array(try transfers.map { t in try transferJSON(t, aad: r.state.id) })
            out["handling_status"] = v["transfer_status"] ?? "submitted"
            if let to = transfers.last?["to_department"]?.stringValue { out["handling_department"] = .string(to) }
        }
        return .object(out)
    }

    /// One page of a department's inbox.
    public struct InboxPage: Sendable {
        /// The items, decrypted (only these were opened).
        public var items: [JSONValue]
        /// The cursor of the next page (`after=`), nil on the last page.
        public var next: String?
    }

    /// A department's inbox, decrypted with its key (rule 4: only here is it readable): the
    /// first 100 items of `inboxPage`.
    public func inbox(department dept: String, status: String?, by who: Principal, today: String? = nil) throws -> [JSONValue] {
        try inboxPage(department: dept, status: status, kind: nil, after: nil, limit: 100, by: who, today: today).items
    }

    /// One page of a department's feedback, overdue first, then open items by due date, then
    /// answered ones (keyset paging: `after` is the previous page's `next`). Only the page's
    /// items are decrypted. `kind` filters by form (`suggestion` … `evaluation`, `survey`);
    /// `survey` to one survey's responses; `includeSurveys: false` leaves survey responses out.
    /// `limit` 1-100.
    /// - Throws: `unauthorized`/`forbidden` as `authorizeDepartment`; `notFound` for another
    ///   node's department; `invalid` for a malformed cursor.
    public func inboxPage(
        department dept: String, status: String?, kind: String?, survey: String? = nil, includeSurveys: Bool = true, after: String?,
        limit: Int, by who: Principal, today: String? = nil
    ) throws -> InboxPage {
        try authorizeDepartment(dept, who)
        guard let key = departmentSealKey(dept) else { throw NodeError.notFound("department \(dept) is not one of this node's") }
        var cursor: TongDatabase.InboxCursor?
        if let after {
            guard let c = TongDatabase.InboxCursor(after) else {
                throw NodeError.invalid("after is not a cursor from this inbox", fields: ["after": "is not a cursor"])
            }
            cursor = c
        }
        let today = today ?? self.today()
        let page = try db.inboxPage(
            department: dept, status: status, form: kind, survey: survey, includeSurveys: includeSurveys, today: today, after: cursor,
            limit: max(1, min(limit, 100)))
        var items: [JSONValue] = []
        for (r, k) in page.records {
            let v = r.state.values
            let st = v["status"]?.stringValue ?? "submitted"
            var o: [String: JSONValue] = [
                "id": .string(r.state.id), "kind": v["form"] ?? "", "department": .string(dept), "about": v["about"] ?? "",
                "status": .string(st), "submitted_at": v["submitted_at"] ?? "", "from_node": .string(r.state.owner),
                "due_on": v["due_on"] ?? "", "survey": v["survey"] ?? "",
            ]
            o["overdue"] = .bool(k.rank == 0)
            if let s = v["sealed"]?.stringValue, let plain = Sealing.open(s, with: key, aad: r.state.id)?.objectValue {
                for (k, x) in plain { o[k] = x }
            } else {
                o["unreadable"] = true
            }
            if let s = v["reply_sealed"]?.stringValue { o["replied"] = .bool(!s.isEmpty); o["replied_at"] = v["replied_at"] ?? "" }
            let history = try replyHistory(r.state, key: key, sealedField: "to_department")
            if !history.isEmpty { o["replies"] = .array(history) }
            if let c = v["closed_at"]?.stringValue, !c.isEmpty { o["closed_at"] = .string(c) }
            if let transfers = v["transfers"]?.arrayValue, !transfers.isEmpty {
                o["transfers"] = .array(try transfers.map { t in try transferJSON(t, aad: nil) })
                o["handling_status"] = v["transfer_status"] ?? "submitted"
            }
            items.append(.object(o))
        }
        return InboxPage(items: items, next: page.next?.description)
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
        if r.state["status"]?.stringValue == "closed" { throw NodeError.conflict("feedback \(fid) is closed; it takes no more replies") }
        if r.state["status"]?.stringValue == "undeliverable" { throw NodeError.conflict("feedback \(fid) was not delivered") }
        if r.state["status"]?.stringValue == "transferred" { throw NodeError.conflict("feedback \(fid) was transferred (转办)") }
        guard let submitter = try db.record(r.state.owner), let key = submitter.state["seal_key"]?.stringValue else {
            throw NodeError.conflict("the submitting node's key is not in the directory yet")
        }
        guard let deptKey = department(dept)?.state["seal_key"]?.stringValue else {
            throw NodeError.conflict("department \(dept) has no sealing key in the directory")
        }
        var replies = r.state["replies"]?.arrayValue ?? []
        guard replies.count < FeedbackFields.maxReplies else {
            throw NodeError.conflict("feedback \(fid) already has \(FeedbackFields.maxReplies) replies")
        }
        let plain: JSONValue = ["content": .string(content)]
        let sealed = try Sealing.seal(plain, to: key, aad: fid)
        let now = wallClock()
        let at = Self.iso8601(ms: now)
        replies.append([
            "at": .string(at), "department": .string(dept), "to_submitter": .string(sealed),
            "to_department": .string(try Sealing.seal(plain, to: deptKey, aad: fid)),
        ])
        // `replied_at` stays the first reply's time: the answer time is measured to it.
        let first = r.state["replied_at"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? at
        var fields: [String: JSONValue] = [
            "reply_sealed": .string(sealed), "replied_at": .string(first), "replies": .array(replies),
            "status": .string(close ? "closed" : "replied"),
        ]
        if close { fields["closed_at"] = .string(at) }
        try write([LocalWrite(id: fid, kind: .feedback, owner: r.state.owner, scope: .route(from: r.state.owner, to: id), fields: fields)])
        return ["id": .string(fid), "status": .string(close ? "closed" : "replied"), "replies": .int(Int64(replies.count))]
    }

    /// Closes (办结) a feedback item explicitly: it leaves the open list and takes no more replies.
    /// - Throws: `notFound`, `forbidden` as `reply`; `conflict` if it is already closed or was undeliverable.
    public func closeFeedback(_ fid: String, by who: Principal) throws -> JSONValue {
        guard let r = try db.record(fid), r.state.kind == .feedback, let dept = r.state["department"]?.stringValue,
            r.state["form"]?.stringValue != ApplicationTimeline.form
        else {
            throw NodeError.notFound("no feedback \(fid) here")
        }
        try authorizeDepartment(dept, who)
        guard departmentSealKey(dept) != nil else { throw NodeError.forbidden("feedback \(fid) is not addressed to this node") }
        let status = r.state["status"]?.stringValue ?? "submitted"
        guard !["closed", "undeliverable", "transferred"].contains(status) else { throw NodeError.conflict("feedback \(fid) is \(status)") }
        let at = Self.iso8601(ms: wallClock())
        try write([
            LocalWrite(
                id: fid, kind: .feedback, owner: r.state.owner, scope: .route(from: r.state.owner, to: id),
                fields: ["status": "closed", "closed_at": .string(at)])
        ])
        return ["id": .string(fid), "status": "closed", "closed_at": .string(at)]
    }

    /// One transfer (转办) for people: when, from and to which department (with names), and at
    /// the submitting node (`aad` the record id) the note, opened with this node's key.
    func transferJSON(_ t: JSONValue, aad: String?) throws -> JSONValue {
        var o: [String: JSONValue] = ["at": t["at"] ?? "", "from_department": t["from_department"] ?? "", "to_department": t["to_department"] ?? ""]
        for k in ["from_department", "to_department"] {
            if let d = t[k]?.stringValue, let r = try db.record(d) { o[k + "_name"] = r.state["name"] ?? "" }
        }
        if let aad, let s = t["note_sealed"]?.stringValue, let n = Sealing.open(s, with: nodeSealKey, aad: aad) { o["note"] = n["note"] ?? "" }
        return .object(o)
    }

    /// The replies of a feedback item, oldest first, each `{"at", "department", "department_name",
    /// "content"}` opened with `key` from `sealedField` (`to_submitter` at the submitting node,
    /// `to_department` at the department's). An item replied to before histories were kept has
    /// its one reply (`reply_sealed`, readable only by the submitter).
    package func replyHistory(_ r: RecordState, key: P256.KeyAgreement.PrivateKey, sealedField: String) throws -> [JSONValue] {
        var out: [JSONValue] = []
        let entries = r["replies"]?.arrayValue ?? []
        for e in entries {
            let dept = e["department"]?.stringValue ?? ""
            var o: [String: JSONValue] = ["at": e["at"] ?? "", "department": .string(dept)]
            if let d = try db.record(dept) { o["department_name"] = d.state["name"] ?? "" }
            if let s = e[sealedField]?.stringValue, let plain = Sealing.open(s, with: key, aad: r.id) {
                o["content"] = plain["content"] ?? ""
            } else {
                o["unreadable"] = true
            }
            out.append(.object(o))
        }
        if entries.isEmpty, sealedField == "to_submitter", let s = r["reply_sealed"]?.stringValue,
            let plain = Sealing.open(s, with: key, aad: r.id)
        {
            out.append(["at": r["replied_at"] ?? "", "department": r["department"] ?? "", "content": plain["content"] ?? ""])
        }
        return out
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
        let now = wallClock()
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
