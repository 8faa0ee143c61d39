/// The timeline of one application (办理), rebuilt from the moves its two sides wrote into the
/// feedback record that carries it (`form = "application"`): the department's node appends to
/// `department_moves`, the applicant's node to `applicant_moves` (rule 5: each side writes only
/// its own list, so the lists never conflict). Every node that holds the record replays the
/// merged moves the same way, so the submitting node, the relays' routing index and the
/// department agree on the status without a shared clock.
public enum ApplicationTimeline {
    /// The form value that marks a feedback record as an application.
    public static let form = "application"

    /// One move as stored: `{"seq", "to", "at", "amount_wan"?, "due_on"?, "note_applicant"?, "note_department"?}`,
    /// where the notes are sealed (to the submitting node and to the department).
    public struct Entry: Sendable, Equatable {
        /// Which side wrote it.
        public var actor: ApplicationActor
        /// Position in its side's list (1-based).
        public var seq: Int
        /// The status moved to.
        public var to: ApplicationStatus
        /// When, ms since 1970 (the writer's clock).
        public var at: Int64
        /// For `paid`: the amount, 万元.
        public var amountWan: Int64?
        /// The due date this move set (`delivered`), `YYYY-MM-DD`.
        public var dueOn: String?
        /// The stored JSON, with the sealed notes.
        public var json: JSONValue
    }

    /// Both lists, parsed (malformed entries are skipped).
    public static func entries(_ values: [String: JSONValue]) -> [Entry] {
        var out: [Entry] = []
        for (field, side) in [("department_moves", ApplicationActor.department), ("applicant_moves", .applicant)] {
            for (k, v) in (values[field]?.arrayValue ?? []).enumerated() {
                guard let to = v["to"]?.stringValue.flatMap(ApplicationStatus.init(rawValue:)), let at = v["at"]?.intValue else { continue }
                // A department-side `delivered` is the node's acknowledgement, the workflow's system actor.
                let actor: ApplicationActor = side == .department && to == .delivered ? .system : side
                out.append(Entry(actor: actor, seq: k + 1, to: to, at: at, amountWan: v["amount_wan"]?.intValue,
                                 dueOn: v["due_on"]?.stringValue, json: v))
            }
        }
        return out
    }

    /// Replays the moves in a deterministic order (time, then the department before the
    /// applicant, then list position) from `submitted`, keeping those the workflow allows at that
    /// point and dropping the rest (e.g. an approval that crossed a withdrawal on the wire).
    /// Notes are not re-checked here: they are sealed, and were checked by the node that moved.
    public static func replay(_ values: [String: JSONValue]) -> (status: ApplicationStatus, moves: [Entry]) {
        let sorted = entries(values).sorted { a, b in
            if a.at != b.at { return a.at < b.at }
            if (a.actor == .applicant) != (b.actor == .applicant) { return b.actor == .applicant }
            return a.seq < b.seq
        }
        var status = ApplicationStatus.submitted
        var kept: [Entry] = []
        for e in sorted {
            let amount = e.to == .paid ? Double(e.amountWan ?? 0) : nil
            if case .success = ApplicationWorkflow.move(from: status, to: e.to, actor: e.actor, note: "·", amountWan: amount) {
                status = e.to
                kept.append(e)
            }
        }
        return (status, kept)
    }

    /// The status to index for a feedback record: an application's replayed status, or the
    /// record's `status` field (default `submitted`) for any other feedback.
    public static func indexedStatus(_ values: [String: JSONValue]) -> String {
        if values["form"]?.stringValue == form { return replay(values).status.rawValue }
        return values["status"]?.stringValue ?? "submitted"
    }

    /// The due date in force: the one set by the latest kept move that set one.
    public static func dueOn(_ values: [String: JSONValue]) -> String {
        // A survey response asks for no answer: it is never due, so never overdue.
        if values["form"]?.stringValue == "survey" { return "" }
        guard values["form"]?.stringValue == form else { return values["due_on"]?.stringValue ?? "" }
        return replay(values).moves.last { $0.dueOn != nil }?.dueOn ?? ""
    }
}
