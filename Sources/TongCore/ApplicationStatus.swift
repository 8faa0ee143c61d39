/// The statuses of an application (办理); raw values are the wire/storage names.
public enum ApplicationStatus: String, CaseIterable, Sendable, Codable {
    /// 已提交: sent by the enterprise, not yet at the department's node.
    case submitted
    /// 已送达: arrived at the department's node.
    case delivered
    /// 已受理: the department has taken the case on.
    case accepted
    /// 退回补正: sent back for the applicant to complete; it may resubmit.
    case returned
    /// 审核通过: approved, awaiting payment.
    case approved
    /// 不予通过: refused, with a reason.
    case rejected
    /// 已兑付: the benefit has been paid, with an amount.
    case paid
    /// 已撤回: withdrawn by the applicant before a decision.
    case withdrawn

    /// The label shown to applicants and staff.
    public var chineseName: String {
        switch self {
        case .submitted: "已提交"
        case .delivered: "已送达"
        case .accepted: "已受理"
        case .returned: "退回补正"
        case .approved: "审核通过"
        case .rejected: "不予通过"
        case .paid: "已兑付"
        case .withdrawn: "已撤回"
        }
    }

    /// Whether no move leaves this status: rejected, paid and withdrawn.
    public var isTerminal: Bool { self == .rejected || self == .paid || self == .withdrawn }

    /// Whether the application is still being handled (not terminal); a second open application to one policy is refused.
    public var isOpen: Bool { !isTerminal }
}
