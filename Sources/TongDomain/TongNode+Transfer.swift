import Crypto
import Foundation
import TongCore
import TongStore

/// 转办: the department a feedback item reached passes it on to another department, at any node.
///
/// The submitting node owns the original record and alone may write its content (rule 5), so a
/// transfer cannot re-address it. Instead the owning node opens the content with its department's
/// key, seals it again to the new department's key and submits it as a new feedback record of
/// its own (`transferred_from` names the original), routed to the new department's node like any
/// submission. The original gets status `transferred` and a `transfers` entry (to whom, when, the
/// note sealed to the submitting node), so it is neither open nor overdue for the first
/// department. When the new department answers, its replies come back to the transferring node
/// (the new record's submitter), which copies them into the original, sealed again to the
/// submitting node: the citizen's receipt follows the item (`mirrorTransfers`).
extension TongNode {
    /// Transfers feedback `fid` (addressed to one of this node's departments) to `department`
    /// with a `note` (1-500 characters). Body: `{"department": id, "note": text}`.
    /// - Returns: `{"id", "status": "transferred", "to_department", "to_record"}`.
    /// - Throws: `notFound`, `forbidden` as `reply`; `invalid` for an unknown, retired or the same
    ///   department or a missing note; `conflict` for an item already closed, transferred or
    ///   undeliverable, or whose content cannot be opened here.
    public func transferFeedback(_ fid: String, body: JSONValue, by who: Principal) throws -> JSONValue {
        guard let r = try db.record(fid), r.state.kind == .feedback, let dept = r.state["department"]?.stringValue,
            r.state["form"]?.stringValue != ApplicationTimeline.form
        else { throw NodeError.notFound("no feedback \(fid) here") }
        try authorizeDepartment(dept, who)
        guard let key = departmentSealKey(dept) else { throw NodeError.forbidden("feedback \(fid) is not addressed to this node") }
        guard case .object(let o) = body else { throw NodeError.invalid("the body must be a JSON object") }
        var problems: [String: String] = [:]
        let target = o["department"]?.stringValue ?? ""
        let targetKey = department(target)?.state["seal_key"]?.stringValue
        if targetKey == nil { problems["department"] = "is not a department in the directory" }
        if target == dept { problems["department"] = "is the department the item is addressed to" }
        let note = o["note"]?.stringValue ?? ""
        if let issue = Validation.text(note, field: "note", min: 1, max: 500) { problems["note"] = issue.message }
        if !problems.isEmpty {
            throw NodeError.invalid(problems.keys.sorted().map { "\($0) \(problems[$0]!)" }.joined(separator: "; "), fields: problems)
        }
        let status = r.state["status"]?.stringValue ?? "submitted"
        guard !["closed", "undeliverable", "transferred"].contains(status) else { throw NodeError.conflict("feedback \(fid) is \(status)") }
        guard let sealed = r.state["sealed"]?.stringValue, var plain = Sealing.open(sealed, with: key, aad: fid)?.objectValue else {
            throw NodeError.conflict("feedback \(fid) cannot be opened here")
        }
        guard let submitter = try db.record(r.state.owner), let submitterKey = submitter.state["seal_key"]?.stringValue,
            let targetKey, let targetNode = Validation.departmentID(target)?.node
        else { throw NodeError.conflict("the submitting node's key is not in the directory yet") }
        plain["transfer_note"] = .string(note)
        plain["transferred_by"] = .string(dept)
        let newID = "\(id)-f\(Self.randomHex(8))"
        let now = wallClock()
        let at = Self.iso8601(ms: now)
        let copy: [String: JSONValue] = [
            "form": r.state["form"] ?? "suggestion", "department": .string(target), "about": r.state["about"] ?? "",
            "sealed": .string(try Sealing.seal(.object(plain), to: targetKey, aad: newID)),
            "submitted_at": .string(at), "submitted_on": .string(Self.day(ms: now)), "survey": r.state["survey"] ?? "",
            "transferred_from": .string(fid),
        ]
        var transfers = r.state["transfers"]?.arrayValue ?? []
        transfers.append([
            "at": .string(at), "from_department": .string(dept), "to_department": .string(target), "to_record": .string(newID),
            "note_sealed": .string(try Sealing.seal(["note": .string(note)], to: submitterKey, aad: fid)),
        ])
        try write([
            LocalWrite(id: newID, kind: .feedback, owner: id, scope: .route(from: id, to: targetNode), fields: copy, mustExist: false),
            LocalWrite(
                id: fid, kind: .feedback, owner: r.state.owner, scope: .route(from: r.state.owner, to: id),
                fields: ["status": "transferred", "transfers": .array(transfers), "transfer_status": "submitted"]),
        ])
        return ["id": .string(fid), "status": "transferred", "to_department": .string(target), "to_record": .string(newID)]
    }

    /// Copies what happened to transferred items (status, new replies) into the originals, sealed
    /// again to their submitting nodes. Called by the sync service; returns the items updated.
    package func mirrorTransfers() throws -> Int {
        var writes: [LocalWrite] = []
        for d in topology.node(id)?.departments ?? [] {
            guard let deptKey = departmentSealKey(d.id) else { continue }
            for r in try db.feedback(department: d.id, status: "transferred") {
                // Our own transfer is the last entry whose copy this node wrote; entries after it
                // are the copy's onward transfers, mirrored below.
                let entries = r.state["transfers"]?.arrayValue ?? []
                var found: StoredRecord?
                for e in entries.reversed() {
                    if let rid = e["to_record"]?.stringValue, let c = try db.record(rid), c.state.owner == id {
                        found = c
                        break
                    }
                }
                guard let copy = found, let submitterKey = try db.record(r.state.owner)?.state["seal_key"]?.stringValue else { continue }
                let newID = copy.state.id
                // Passed on again: the item's state is the onward copy's (mirrored into ours by the next node).
                let copyStatus = copy.state["status"]?.stringValue ?? "submitted"
                let downstream = copyStatus == "transferred" ? copy.state["transfer_status"]?.stringValue ?? "submitted" : copyStatus
                var chain = entries
                let known = Set(entries.compactMap { $0["to_record"]?.stringValue })
                for e in copy.state["transfers"]?.arrayValue ?? [] {
                    guard let rid = e["to_record"]?.stringValue, !known.contains(rid) else { continue }
                    var entry: [String: JSONValue] = [
                        "at": e["at"] ?? "", "from_department": e["from_department"] ?? "", "to_department": e["to_department"] ?? "",
                        "to_record": .string(rid), "via": .string(newID),
                    ]
                    // Its note was sealed to this node (the copy's submitter): seal it again to the citizen's node.
                    if let s = e["note_sealed"]?.stringValue, let plain = Sealing.open(s, with: nodeSealKey, aad: newID) {
                        entry["note_sealed"] = .string(try Sealing.seal(plain, to: submitterKey, aad: r.state.id))
                    }
                    chain.append(.object(entry))
                }
                let theirs = copy.state["replies"]?.arrayValue ?? []
                var ours = r.state["replies"]?.arrayValue ?? []
                func key(_ e: JSONValue) -> String { "\(e["at"]?.stringValue ?? "")|\(e["department"]?.stringValue ?? "")" }
                let mirrored = Set(ours.map(key))
                var fields: [String: JSONValue] = [:]
                for e in theirs where !mirrored.contains(key(e)) {
                    // Their reply reached us sealed to this node (the copy's submitter).
                    guard let s = e["to_submitter"]?.stringValue, let plain = Sealing.open(s, with: nodeSealKey, aad: newID),
                        ours.count < FeedbackFields.maxReplies
                    else { continue }
                    ours.append([
                        "at": e["at"] ?? "", "department": e["department"] ?? "",
                        "to_submitter": .string(try Sealing.seal(plain, to: submitterKey, aad: r.state.id)),
                        "to_department": .string(
                            try Sealing.seal(plain, to: deptKey.publicKey.x963Representation.base64EncodedString(), aad: r.state.id)),
                    ])
                }
                // `replied_at` is left alone: these answers are the new department's, not an answer time of the first.
                if ours.count != (r.state["replies"]?.arrayValue ?? []).count { fields["replies"] = .array(ours) }
                if r.state["transfer_status"]?.stringValue != downstream { fields["transfer_status"] = .string(downstream) }
                if chain.count != entries.count { fields["transfers"] = .array(chain) }
                guard !fields.isEmpty else { continue }
                let scope = Scope.route(from: r.state.owner, to: id)
                writes.append(LocalWrite(id: r.state.id, kind: .feedback, owner: r.state.owner, scope: scope, fields: fields))
            }
        }
        guard !writes.isEmpty else { return 0 }
        try write(writes)
        return writes.count
    }
}
