/// Who asks for a move in the application workflow.
public enum ApplicationActor: String, CaseIterable, Sendable, Codable {
    /// The department that owns the policy (its staff, with the department's token).
    case department
    /// The enterprise that applied (with its enterprise token).
    case applicant
    /// The department's node itself, recording that the sealed application has arrived (`delivered`).
    case system

    /// The label used in refusals.
    public var chineseName: String {
        switch self {
        case .department: "受理部门"
        case .applicant: "申请企业"
        case .system: "受理部门所在节点"
        }
    }
}
