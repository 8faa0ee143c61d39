import Crypto
import Foundation
import TongCore
import TongStore

/// 办理: an enterprise applies for a policy's benefit at its own node; the application is a
/// feedback record (`form = "application"`) sealed to the policy's department and routed along
/// the tree exactly as feedback is (rule 4), and its workflow (`ApplicationWorkflow`) is the
/// moves each side appends (`ApplicationTimeline`).
extension TongNode {
    /// Files an application (or, for a `confirm` policy, the 免申即享 confirmation).
    ///
    /// Body: `policy`, `enterprise`, `answers` (field id → value; none for `confirm`),
    /// `amount_wan`? (integer 万元 asked for).
    /// - Returns: `{"id", "receipt", "status": "submitted"}`.
    /// - Throws: 401/403/404 for the token (as `enterprise(_:token:)`); `.notFound` for a policy
    ///   not held here; `.invalid` (422) outside `apply_from`..`apply_to`, for an enterprise the
    ///   eligibility does not fit (the failing conditions, in Chinese), or for bad answers;
    ///   `.conflict` (409) for a second open application to the same policy.
    public func apply(_ body: JSONValue, token: String?) throws -> Submission {
        guard case .object(let o) = body else { throw NodeError.invalid("请求体须为 JSON 对象") }
        let ent = try enterprise(o["enterprise"]?.stringValue ?? "", token: token)
        let policyID = o["policy"]?.stringValue ?? ""
        guard let p = try db.record(policyID), p.state.kind == .policy else { throw NodeError.notFound("本节点没有政策 \(policyID)") }
        let v = p.state.values
        guard let formJSON = v["application"], formJSON != .null, let form = try? ApplicationForm.parse(formJSON) else {
            throw NodeError.invalid("该政策不接受在线申报", fields: ["policy": "该政策不接受在线申报"])
        }
        let now = Self.now()
        guard let today = SimpleDate(beijingMillis: now) else { throw NodeError(.internal, "clock out of range") }
        if let from = v["apply_from"]?.stringValue.flatMap(SimpleDate.init), today < from {
            throw NodeError.invalid("申报尚未开始（\(from) 起）", fields: ["policy": "申报期为 \(from) 起"])
        }
        if let to = v["apply_to"]?.stringValue.flatMap(SimpleDate.init), today > to {
            throw NodeError.invalid("申报已截止（\(to)）", fields: ["policy": "申报已于 \(to) 截止"])
        }
        let eligibility = (v["eligibility"]).flatMap { $0 == .null ? nil : try? Eligibility.parse($0) } ?? Eligibility()
        let result = Matching.evaluate(
            profile: ent.profile, eligibility: eligibility,
            audiences: (v["audiences"]?.stringArray ?? []).compactMap(Audience.init(rawValue:)), status: v["status"]?.stringValue,
            effectiveFrom: v["effective_from"]?.stringValue.flatMap(SimpleDate.init),
            effectiveTo: v["effective_to"]?.stringValue.flatMap(SimpleDate.init), today: today)
        guard result.verdict == .fits else {
            let failing = result.failing
            var fields: [String: String] = [:]
            for f in failing { fields[f.condition] = f.detail }
            throw NodeError.invalid("不符合申报条件：" + failing.map(\.detail).joined(separator: "；"), fields: fields)
        }
        let answers = o["answers"]?.objectValue ?? [:]
        let problems = form.validate(answers: answers)
        if !problems.isEmpty {
            throw NodeError.invalid(problems.keys.sorted().map { "\($0)：\(problems[$0]!)" }.joined(separator: "；"), fields: problems)
        }
        let amount = try Self.amountWan(o["amount_wan"])
        for existing in try db.applications(enterprise: ent.id, policy: policyID)
        where ApplicationTimeline.replay(existing.state.values).status.isOpen {
            throw NodeError.conflict("该企业已有一件未办结的申请（\(existing.state.id)）")
        }
        let dept = v["department"]?.stringValue ?? ""
        guard let d = department(dept), let sealKey = d.state["seal_key"]?.stringValue, let target = Validation.departmentID(dept)?.node else {
            throw NodeError(.unavailable, "受理部门 \(dept) 尚未出现在本节点的目录中，请稍后再试")
        }
        let recordID = "\(id)-a\(Self.randomHex(8))"
        var content: [String: JSONValue] = [
            "policy": .string(policyID), "policy_title": v["title"] ?? "", "mode": .string(form.mode.rawValue),
            "answers": .object(answers), "enterprise": Self.applicantDetails(ent),
        ]
        if let amount { content["amount_wan"] = .int(amount) }
        let receipt = Self.newReceipt()
        var w = LocalWrite(
            id: recordID, kind: .feedback, owner: id, scope: .route(from: id, to: target),
            fields: [
                "form": .string(ApplicationTimeline.form), "department": .string(dept), "about": .string(policyID),
                "sealed": .string(try Sealing.seal(.object(content), to: sealKey, aad: recordID)),
                "submitted_at": .string(Self.iso8601(ms: now)), "submitted_on": .string(Self.day(ms: now)), "survey": "",
            ], mustExist: false)
        w.receiptHash = Self.receiptHash(receipt)
        w.application = (ent.id, policyID)
        try write([w])
        logger.info("application filed", metadata: ["application.id": .string(recordID), "policy.id": .string(policyID)])
        return Submission(id: recordID, receipt: receipt, warnings: [])
    }

    /// What the department sees of the applicant (sealed to it; never in clear on the wire).
    static func applicantDetails(_ e: EnterpriseRow) -> JSONValue {
        [
            "id": .string(e.id), "uscc": .string(e.uscc), "name": .string(e.name), "region": .string(e.region),
            "industry": .string(e.industry), "size_class": .string(e.sizeClass), "employees": .int(Int64(e.employees)),
            "revenue_wan": .int(Int64(e.revenueWan)), "assets_wan": .int(Int64(e.assetsWan)),
            "established_on": .string(e.establishedOn), "taxpayer": .string(e.taxpayer), "contact": e.contact,
        ]
    }

    /// The applicant moves its own application: `resubmit` after 补正 (new answers, the clock
    /// restarts) or `withdraw` before a decision. Body: `answers` (resubmit), `note`?, and
    /// `enterprise`?: the applicant's id, which the application already names, so it may be left
    /// out; the token must be that enterprise's.
    /// - Throws: as `enterprise(_:token:)`; `.notFound`; `.forbidden` when `enterprise` names
    ///   another enterprise; `.conflict` (409) for a move the workflow does not allow now;
    ///   `.invalid` for bad answers.
    public func moveAsApplicant(_ applicationID: String, to: ApplicationStatus, body: JSONValue, token: String?) throws -> JSONValue {
        // The token first: without one that an enterprise here holds, 401 whatever the id, so the
        // answer never tells whether an application exists.
        guard let token, !token.isEmpty else { throw NodeError.unauthorized("需要企业令牌（Authorization: Bearer …）") }
        guard let ent = try db.enterprise(tokenHash: Self.receiptHash(token)) else { throw NodeError.unauthorized("企业令牌无效") }
        guard let r = try db.record(applicationID), r.state.kind == .feedback, r.state.owner == id,
              r.state["form"]?.stringValue == ApplicationTimeline.form
        else { throw NodeError.notFound("本节点没有申请 \(applicationID)") }
        // The token's holder must be the applicant, and `enterprise`, when given, must name it.
        guard try db.applicant(of: applicationID) == ent.id, body["enterprise"]?.stringValue.map({ $0 == ent.id }) ?? true else {
            throw NodeError.forbidden("这不是该企业的申请")
        }
        let current = ApplicationTimeline.replay(r.state.values).status
        let note = body["note"]?.stringValue
        if case .failure(let refusal) = ApplicationWorkflow.move(from: current, to: to, actor: .applicant, note: note) {
            throw NodeError.conflict(refusal.reason)
        }
        let dept = r.state["department"]?.stringValue ?? ""
        guard let sealKey = department(dept)?.state["seal_key"]?.stringValue else { throw NodeError(.unavailable, "受理部门不在目录中") }
        let now = Self.now()
        var fields: [String: JSONValue] = [:]
        var move: [String: JSONValue] = ["to": .string(to.rawValue), "at": .int(now)]
        if let note, !note.isEmpty {
            move["note_department"] = .string(try Sealing.seal(["note": .string(note)], to: sealKey, aad: applicationID))
            move["note_applicant"] = .string(try Sealing.seal(["note": .string(note)], to: Sealing.publicKeyBase64(nodeSealKey), aad: applicationID))
        }
        if to == .submitted {
            // A resubmission replaces the sealed content with the corrected answers.
            guard let p = try db.record(r.state["about"]?.stringValue ?? ""), let formJSON = p.state["application"],
                  let form = try? ApplicationForm.parse(formJSON)
            else { throw NodeError.notFound("政策已不在本节点") }
            let answers = body["answers"]?.objectValue ?? [:]
            let problems = form.validate(answers: answers)
            if !problems.isEmpty { throw NodeError.invalid("请按提示补正", fields: problems) }
            let content: [String: JSONValue] = [
                "policy": .string(p.state.id), "policy_title": p.state["title"] ?? "", "mode": .string(form.mode.rawValue),
                "answers": .object(answers), "enterprise": Self.applicantDetails(ent),
            ]
            fields["sealed"] = .string(try Sealing.seal(.object(content), to: sealKey, aad: applicationID))
        }
        fields["applicant_moves"] = .array((r.state["applicant_moves"]?.arrayValue ?? []) + [.object(move)])
        try write([LocalWrite(id: applicationID, kind: .feedback, owner: id, scope: r.routeScope, fields: fields)])
        return ["id": .string(applicationID), "status": .string(to.rawValue)]
    }

    /// A department decides: `accepted` (受理), `returned` (补正, note required), `approved`,
    /// `rejected` (note required) or `paid` (兑付, `amount_wan` required: an integer number of
    /// 万元, 1 to `ApplicationWorkflow.maxAmountWan`).
    /// - Throws: 401/403 for the token; `.notFound`; `.invalid` (422) for an `amount_wan` that is
    ///   not such an integer; `.conflict` (409) for a move the workflow does not allow now, or a
    ///   missing note or amount.
    public func decide(_ applicationID: String, body: JSONValue, by who: Principal) throws -> JSONValue {
        // Who first (401 without a token, 403 for a principal that decides nothing), then which application.
        switch who {
        case .anonymous: throw NodeError.unauthorized("需要受理部门的令牌")
        case .admin: throw NodeError.forbidden("只有受理部门可以对申请作出决定")
        case .department: break
        }
        guard let r = try db.record(applicationID), r.state.kind == .feedback, r.state["form"]?.stringValue == ApplicationTimeline.form,
              let dept = r.state["department"]?.stringValue
        else { throw NodeError.notFound("本节点没有申请 \(applicationID)") }
        try authorizeDecision(dept, who)
        guard departmentSealKey(dept) != nil else { throw NodeError.forbidden("申请 \(applicationID) 不由本节点受理") }
        guard let to = body["status"]?.stringValue.flatMap(ApplicationStatus.init(rawValue:)) else {
            throw NodeError.invalid("status 须为 accepted、returned、approved、rejected 或 paid", fields: ["status": "无效"])
        }
        let moves = try departmentMoves(r, to: [to], note: body["note"]?.stringValue, amount: try Self.amountWan(body["amount_wan"]))
        try write([LocalWrite(id: applicationID, kind: .feedback, owner: r.state.owner, scope: r.routeScope, fields: moves)])
        return ["id": .string(applicationID), "status": .string(to.rawValue)]
    }

    /// An `amount_wan` field, asked for (申请) or paid (兑付): absent or null is nil; otherwise an
    /// integer number of 万元 from 1 to `ApplicationWorkflow.maxAmountWan`.
    /// - Throws: `.invalid` (422) naming the rule, for anything else.
    static func amountWan(_ v: JSONValue?) throws -> Int64? {
        guard let v, v != .null else { return nil }
        guard let i = v.intValue, i > 0, i <= ApplicationWorkflow.maxAmountWan else {
            let rule = "须为 1 至 \(ApplicationWorkflow.maxAmountWan) 之间的整数（万元）"
            throw NodeError.invalid("amount_wan " + rule, fields: ["amount_wan": rule])
        }
        return i
    }

    /// Decisions on applications (受理, 补正, 审批, 兑付) are the receiving department's alone: its
    /// token, not the node admin's (the contract's "办理"; the admin may read the list).
    /// - Throws: `unauthorized` without a token, `forbidden` for any other principal.
    func authorizeDecision(_ dept: String, _ who: Principal) throws {
        switch who {
        case .department(let d) where d == dept: return
        case .anonymous: throw NodeError.unauthorized("需要受理部门的令牌")
        default: throw NodeError.forbidden("只有受理部门 \(dept) 可以对申请作出决定")
        }
    }

    /// 免申即享: approves confirmed applications of one department in one write (each one
    /// accepted first when it is only delivered). Returns what happened to each id.
    public func approveBatch(_ ids: [String], note: String?, by who: Principal) throws -> JSONValue {
        var writes: [LocalWrite] = []
        var results: [String: JSONValue] = [:]
        guard ids.count <= 1_000 else { throw NodeError.invalid("一次最多批量处理 1000 件申请", fields: ["ids": "最多 1000 个"]) }
        for aid in ids {
            guard let r = try db.record(aid), r.state.kind == .feedback, r.state["form"]?.stringValue == ApplicationTimeline.form,
                  let dept = r.state["department"]?.stringValue
            else { results[aid] = "not_found"; continue }
            try authorizeDecision(dept, who)
            // Only 免申即享 confirmations skip the review; an application with answers is decided one by one.
            let policy = try r.state["about"]?.stringValue.flatMap { try db.record($0) }
            guard policy?.state["application"]?["mode"]?.stringValue == "confirm" else {
                results[aid] = "refused: not a 免申即享 confirmation; decide it on its own"
                continue
            }
            let status = ApplicationTimeline.replay(r.state.values).status
            let path: [ApplicationStatus] = status == .delivered ? [.accepted, .approved] : [.approved]
            do {
                let moves = try departmentMoves(r, to: path, note: note, amount: nil)
                writes.append(LocalWrite(id: aid, kind: .feedback, owner: r.state.owner, scope: r.routeScope, fields: moves))
                results[aid] = "approved"
            } catch let e as NodeError where e.code == .conflict {
                results[aid] = .string("refused: \(e.message)")
            }
        }
        if !writes.isEmpty { try write(writes) }
        return ["results": .object(results)]
    }

    /// The fields that append department moves along `path` to an application, each checked
    /// by the workflow; notes sealed to the submitting node and to the department.
    func departmentMoves(_ r: StoredRecord, to path: [ApplicationStatus], note: String?, amount: Int64?) throws -> [String: JSONValue] {
        var status = ApplicationTimeline.replay(r.state.values).status
        guard let submitter = try db.record(r.state.owner), let submitterKey = submitter.state["seal_key"]?.stringValue,
              let dept = r.state["department"]?.stringValue, let deptKey = departmentSealKey(dept)
        else { throw NodeError.conflict("提交节点的密钥尚未出现在目录中") }
        var list = r.state["department_moves"]?.arrayValue ?? []
        var now = Self.now()
        // Moves written in one call sort after everything already recorded, in order.
        let latest = ApplicationTimeline.entries(r.state.values).map(\.at).max() ?? 0
        now = max(now, latest + 1)
        for to in path {
            let moveAmount = to == .paid ? amount.map(Double.init) : nil
            switch ApplicationWorkflow.move(from: status, to: to, actor: .department, note: note, amountWan: moveAmount) {
            case .failure(let refusal): throw NodeError.conflict(refusal.reason)
            case .success(let m):
                var move: [String: JSONValue] = ["to": .string(to.rawValue), "at": .int(now)]
                if to == .paid, let amount { move["amount_wan"] = .int(amount) }
                if let n = m.note {
                    move["note_applicant"] = .string(try Sealing.seal(["note": .string(n)], to: submitterKey, aad: r.state.id))
                    move["note_department"] = .string(
                        try Sealing.seal(["note": .string(n)], to: Sealing.publicKeyBase64(deptKey), aad: r.state.id))
                }
                list.append(.object(move))
                status = to
                now += 1
            }
        }
        return ["department_moves": .array(list)]
    }

    /// The public status of an application by its receipt, at the submitting node: status and
    /// the timeline, with the department's notes opened with this node's key.
    public func applicationStatus(_ receipt: String) throws -> JSONValue {
        guard receipt.utf8.count <= 100, let r = try db.feedback(receiptHash: Self.receiptHash(receipt)),
              r.state["form"]?.stringValue == ApplicationTimeline.form
        else { throw NodeError.notFound("本节点没有这一回执的申请") }
        return applicationJSON(r, noteKey: nodeSealKey, noteField: "note_applicant", content: nil)
    }

    /// One department's applications, readable (decrypted with its key), overdue first, then by due date.
    public func applications(department dept: String, status: String?, by who: Principal) throws -> [JSONValue] {
        try authorizeDepartment(dept, who)
        guard let key = departmentSealKey(dept) else { throw NodeError.notFound("部门 \(dept) 不属于本节点") }
        let today = Self.day(ms: Self.now())
        var items = try db.feedback(department: dept, status: status, applications: true).map { r -> JSONValue in
            let content = r.state["sealed"]?.stringValue.flatMap { Sealing.open($0, with: key, aad: r.state.id) }
            var o = applicationJSON(r, noteKey: key, noteField: "note_department", content: content).objectValue ?? [:]
            let due = o["due_on"]?.stringValue ?? ""
            let open = ApplicationStatus(rawValue: o["status"]?.stringValue ?? "")?.isOpen ?? false
            o["overdue"] = .bool(open && !due.isEmpty && due < today)
            o["allowed"] = .strings(ApplicationWorkflow.allowed(from: ApplicationStatus(rawValue: o["status"]?.stringValue ?? "") ?? .submitted,
                                                                actor: .department).map(\.rawValue))
            return .object(o)
        }
        items.sort { a, b in
            let ao = a["overdue"] == .bool(true), bo = b["overdue"] == .bool(true)
            if ao != bo { return ao }
            let ad = a["due_on"]?.stringValue ?? "", bd = b["due_on"]?.stringValue ?? ""
            if ad != bd { return ad.isEmpty ? false : bd.isEmpty ? true : ad < bd }
            return (a["submitted_at"]?.stringValue ?? "") < (b["submitted_at"]?.stringValue ?? "")
        }
        return items
    }

    /// An application as the API shows it: routing header, status, due date and the timeline
    /// (notes opened with `noteKey` when they were sealed to it), plus the sealed `content` if opened.
    func applicationJSON(_ r: StoredRecord, noteKey: P256.KeyAgreement.PrivateKey, noteField: String, content: JSONValue?) -> JSONValue {
        let v = r.state.values
        let (status, moves) = ApplicationTimeline.replay(v)
        var history: [JSONValue] = [["status": "submitted", "at": v["submitted_at"] ?? "", "actor": "applicant"]]
        var paid: Int64?
        for m in moves {
            var h: [String: JSONValue] = [
                "status": .string(m.to.rawValue), "at": .string(Self.iso8601(ms: m.at)), "actor": .string(m.actor.rawValue),
            ]
            if let a = m.amountWan { h["amount_wan"] = .int(a); paid = a }
            if let d = m.dueOn { h["due_on"] = .string(d) }
            if let s = m.json[noteField]?.stringValue, let n = Sealing.open(s, with: noteKey, aad: r.state.id)?["note"] { h["note"] = n }
            history.append(.object(h))
        }
        var o: [String: JSONValue] = [
            "id": .string(r.state.id), "kind": "application", "policy": v["about"] ?? "", "department": v["department"] ?? "",
            "status": .string(status.rawValue), "status_name": .string(status.chineseName), "submitted_at": v["submitted_at"] ?? "",
            "from_node": .string(r.state.owner), "due_on": .string(ApplicationTimeline.dueOn(v)), "history": .array(history),
        ]
        if let paid { o["paid_wan"] = .int(paid) }
        if let d = v["department"]?.stringValue, let dep = department(d) { o["department_name"] = dep.state["name"] ?? "" }
        if let content { o["content"] = content }
        return .object(o)
    }
}

extension StoredRecord {
    /// The route scope a feedback record travels in: from its submitting node to its department's node.
    var routeScope: Scope {
        let to = Validation.departmentID(state["department"]?.stringValue ?? "")?.node ?? state.owner
        return .route(from: state.owner, to: to)
    }
}
