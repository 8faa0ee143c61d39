/// The kinds of replicated record.
public enum RecordKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A federation node (directory).
    case node
    /// A department of a node, with the public key feedback is sealed to (directory).
    case department
    /// A relief policy (政策通).
    case policy
    /// A service item (办事通).
    case serviceItem = "service_item"
    /// A survey (开复工情况调查问卷).
    case survey
    /// A feedback message or survey response (互动通), routed to the owning department.
    case feedback
    /// Supervision figures (督查) of one node: counts only, no personal data.
    case stats

    /// Whether records of this kind belong to the directory that reaches every node.
    public var isDirectory: Bool { self == .node || self == .department }

    /// Fields an ancestor of the owner may change (rule 5): classification only.
    public var classificationFields: Set<String> {
        switch self {
        case .policy, .serviceItem, .survey: return ["themes", "tags"]
        default: return []
        }
    }

    /// Short id prefix for records this kind creates.
    public var idPrefix: String {
        switch self {
        case .node: return "n"
        case .department: return "d"
        case .policy: return "p"
        case .serviceItem: return "s"
        case .survey: return "q"
        case .feedback: return "f"
        case .stats: return "t"
        }
    }
}

/// Fields of a feedback record written by the node that received the submission.
public enum FeedbackFields {
    /// Written once, by the submitting node: the routing header and the sealed content.
    public static let submitter: Set<String> = [
        "form", "department", "about", "sealed", "submitted_at", "submitted_on", "survey", "applicant_moves", "receipt_sealed",
        "transferred_from",
    ]
    /// Written by the node that owns the addressed department: status and the sealed reply.
    public static let owner: Set<String> = [
        "status", "reply_sealed", "replied_at", "delivered_at", "closed_at", "due_on", "undeliverable", "department_moves",
        "replies", "transfers", "transfer_status",
    ]
    /// Most replies one feedback item keeps (its history, `replies`).
    public static let maxReplies = 50

    /// Whether an item with this status still waits for its department (anything but
    /// `replied` and `closed`); only open items can be overdue. Schema v2 spells the same rule in SQL.
    /// Applications (办理) are open until they are rejected, paid or withdrawn.
    /// A transferred item (转办) is the new department's to answer: closed for the first.
    public static func isOpen(status: String) -> Bool {
        !["replied", "closed", "rejected", "paid", "withdrawn", "transferred"].contains(status)
    }
}
