import Foundation
import TongCore
import TongStore

/// Surveys (开复工情况调查问卷): published like policies, answered like feedback (sealed to the
/// department), tallied at the department's node only.
package enum Surveys {
    package static let types: Set<String> = ["single", "multiple", "text"]

    /// Validates a survey definition.
    package static func validate(_ body: JSONValue, node: String) throws -> [String: JSONValue] {
        guard case .object(let o) = body else { throw NodeError.invalid("the body must be a JSON object") }
        var problems: [String: String] = [:]
        for k in o.keys where !["title", "department", "questions", "themes", "tags"].contains(k) { problems[k] = "is not a survey field" }
        let title = o["title"]?.stringValue ?? ""
        if let i = Validation.text(title, field: "title", min: 1, max: 200) { problems["title"] = i.message }
        let dept = o["department"]?.stringValue ?? ""
        if Validation.departmentID(dept)?.node != node { problems["department"] = "must be a department of node \(node)" }
        var questions: [JSONValue] = []
        if let qs = o["questions"]?.arrayValue, (1...50).contains(qs.count) {
            for (n, q) in qs.enumerated() {
                guard let t = q["type"]?.stringValue, types.contains(t), let text = q["text"]?.stringValue,
                    Validation.text(text, field: "text", min: 1, max: 200) == nil
                else {
                    problems["questions[\(n)]"] = "needs type (single, multiple, text) and text"; continue
                }
                var out: [String: JSONValue] = ["id": .string("q\(n + 1)"), "type": .string(t), "text": .string(text)]
                if t != "text" {
                    guard let opts = q["options"]?.stringArray, (2...20).contains(opts.count),
                        opts.allSatisfy({ Validation.text($0, field: "option", min: 1, max: 100) == nil })
                    else {
                        problems["questions[\(n)]"] = "needs 2 to 20 options"; continue
                    }
                    out["options"] = .strings(opts)
                }
                questions.append(.object(out))
            }
        } else {
            problems["questions"] = "must list 1 to 50 questions"
        }
        if !problems.isEmpty {
            throw NodeError.invalid(problems.keys.sorted().map { "\($0) \(problems[$0]!)" }.joined(separator: "; "), fields: problems)
        }
        return [
            "title": .string(title), "department": .string(dept), "questions": .array(questions), "status": "active",
            "themes": o["themes"] ?? ["resume_work"], "tags": o["tags"] ?? [],
        ]
    }

    /// Validates answers against a survey's questions: `{"q1": "option", "q2": ["a","b"], "q3": "text"}`.
    package static func validateAnswers(_ v: JSONValue?, survey: RecordState) throws -> JSONValue {
        guard survey["status"]?.stringValue != "withdrawn" else { throw NodeError.invalid("the survey is closed") }
        guard let answers = v?.objectValue else { throw NodeError.invalid("must be an object of answers") }
        let questions = survey["questions"]?.arrayValue ?? []
        var out: [String: JSONValue] = [:]
        for q in questions {
            guard let qid = q["id"]?.stringValue, let type = q["type"]?.stringValue else { continue }
            let options = Set(q["options"]?.stringArray ?? [])
            guard let a = answers[qid] else { continue }
            switch type {
            case "single":
                guard let s = a.stringValue, options.contains(s) else { throw NodeError.invalid("\(qid) must be one of its options") }
                out[qid] = a
            case "multiple":
                guard let s = a.stringArray, !s.isEmpty, Set(s).isSubset(of: options) else {
                    throw NodeError.invalid("\(qid) must list some of its options")
                }
                out[qid] = .strings(Array(Set(s)).sorted())
            default:
                guard let s = a.stringValue, Validation.text(s, field: qid, min: 0, max: 1_000) == nil else {
                    throw NodeError.invalid("\(qid) must be text up to 1000 characters")
                }
                out[qid] = a
            }
        }
        for k in answers.keys where !questions.contains(where: { $0["id"]?.stringValue == k }) {
            throw NodeError.invalid("\(k) is not a question of this survey")
        }
        guard !out.isEmpty else { throw NodeError.invalid("no question answered") }
        return .object(out)
    }
}

extension TongNode {
    /// Publishes a survey (admin), flowing like a policy.
    public func createSurvey(_ body: JSONValue, by who: Principal) throws -> RecordState {
        try who.requireAdmin("only the node's admin may publish")
        let f = try Surveys.validate(body, node: id)
        try checkReferences(f)
        return try write([LocalWrite(id: nil, kind: .survey, owner: id, scope: .owned(id), fields: f)])[0]
    }

    /// Tallies of a survey's responses, opened with the department's key (owner node only).
    public func surveyTallies(_ sid: String, by who: Principal) throws -> JSONValue {
        guard let s = try db.record(sid), s.state.kind == .survey, let dept = s.state["department"]?.stringValue else {
            throw NodeError.notFound("no survey \(sid) here")
        }
        try authorizeDepartment(dept, who)
        guard let key = departmentSealKey(dept) else { throw NodeError.forbidden("survey \(sid) belongs to another node") }
        let questions = s.state["questions"]?.arrayValue ?? []
        // Held across the read, so two views never both count the same responses.
        let t = try surveyTallyCache.withLock { cache -> SurveyTally in
            var t = cache[sid] ?? SurveyTally()
            var incomplete = false
            try db.eachFeedback(department: dept, survey: sid, after: t.after) { r in
                guard !incomplete else { return }
                // Not complete here yet (an edit overtook its creation): read it again next time.
                guard let blob = r.state["sealed"]?.stringValue else { incomplete = true; return }
                t.after = r.rowid
                guard let plain = Sealing.open(blob, with: key, aad: r.state.id), let a = plain["answers"]?.objectValue else { return }
                t.responses += 1
                for (q, v) in a {
                    if let one = v.stringValue, questions.first(where: { $0["id"]?.stringValue == q })?["type"]?.stringValue == "text" {
                        t.texts[q, default: []].append(one)
                    } else {
                        for o in v.stringArray ?? [v.stringValue].compactMap({ $0 }) { t.counts[q, default: [:]][o, default: 0] += 1 }
                    }
                }
            }
            cache[sid] = t
            return t
        }
        let (counts, texts, responses) = (t.counts, t.texts, t.responses)
        return [
            "survey": .string(sid), "responses": .int(Int64(responses)),
            "tallies": .object(counts.mapValues { .object($0.mapValues { .int(Int64($0)) }) }),
            "texts": .object(texts.mapValues { .strings($0) }),
        ]
    }
}

/// A survey's tally up to a row (`after`): counts per question and option, text answers.
package struct SurveyTally: Sendable {
    package var after: Int64 = 0
    package var responses = 0
    package var counts: [String: [String: Int]] = [:]
    package var texts: [String: [String]] = [:]
}
