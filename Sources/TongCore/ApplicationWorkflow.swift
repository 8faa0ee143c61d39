import Foundation

/// The application (办理) workflow as a pure state machine; the desk records the accepted moves with their time.
/// `confirm` policies (免申即享) use the same machine: the confirmation is the submission.
public enum ApplicationWorkflow {
    /// A move the workflow allows, ready to be recorded in the application's history.
    public struct Move: Sendable, Equatable {
        /// The status before.
        public var from: ApplicationStatus
        /// The status after.
        public var to: ApplicationStatus
        /// Who made it.
        public var actor: ApplicationActor
        /// The note, trimmed; nil when blank or absent.
        public var note: String?
        /// The amount paid in 万元; only for `paid`.
        public var amountWan: Double?
        /// Whether the department's due-date clock starts again from this move (a resubmission after 补正).
        public var restartsClock: Bool
    }

    /// Every allowed move and the one actor who may make it.
    public static let moves: [ApplicationStatus: [ApplicationStatus: ApplicationActor]] = [
        .submitted: [.delivered: .system, .withdrawn: .applicant],
        .delivered: [.accepted: .department, .returned: .department, .rejected: .department, .withdrawn: .applicant],
        .accepted: [.approved: .department, .rejected: .department, .returned: .department, .withdrawn: .applicant],
        .returned: [.submitted: .applicant, .withdrawn: .applicant],
        .approved: [.paid: .department],
    ]

    /// The statuses `actor` may move an application to from `from`, in declaration order.
    public static func allowed(from: ApplicationStatus, actor: ApplicationActor) -> [ApplicationStatus] {
        ApplicationStatus.allCases.filter { moves[from]?[$0] == actor }
    }

    /// The largest amount an application may ask for or a payment (兑付) may record, in 万元:
    /// 100,000,000 万元 (1万亿元), far above any relief policy, so that a typing slip of a few
    /// orders of magnitude cannot reach the supervision figures.
    public static let maxAmountWan: Int64 = 100_000_000

    /// Checks one move. `rejected` needs a note (the reason) and `returned` a note (what is missing); `paid` needs
    /// `0 < amountWan <= maxAmountWan` (万元, finite) and no other move takes an amount. `returned → submitted` is the applicant's
    /// resubmission and restarts the due-date clock.
    public static func move(
        from: ApplicationStatus, to: ApplicationStatus, actor: ApplicationActor, note: String? = nil, amountWan: Double? = nil
    ) -> Result<Move, WorkflowRefusal> {
        if from.isTerminal {
            return .failure(WorkflowRefusal(code: .terminal, reason: "申请已办结（\(from.chineseName)），不能再变更"))
        }
        guard let who = moves[from]?[to] else {
            return .failure(WorkflowRefusal(code: .notAllowed, reason: "不能从“\(from.chineseName)”变更为“\(to.chineseName)”"))
        }
        guard who == actor else {
            return .failure(WorkflowRefusal(
                code: .wrongActor, reason: "只有\(who.chineseName)可以将申请从“\(from.chineseName)”变更为“\(to.chineseName)”"))
        }
        let trimmed = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        let cleanNote = trimmed?.isEmpty == false ? trimmed : nil
        if to == .rejected, cleanNote == nil {
            return .failure(WorkflowRefusal(code: .noteRequired, reason: "不予通过须说明理由"))
        }
        if to == .returned, cleanNote == nil {
            return .failure(WorkflowRefusal(code: .noteRequired, reason: "退回补正须说明需要补正的内容"))
        }
        if to == .paid {
            guard let a = amountWan, a.isFinite, a > 0, a <= Double(maxAmountWan) else {
                return .failure(WorkflowRefusal(code: .badAmount, reason: "兑付须填写大于零且不超过 \(maxAmountWan) 万元的金额"))
            }
        } else if amountWan != nil {
            return .failure(WorkflowRefusal(code: .badAmount, reason: "只有兑付时填写金额"))
        }
        let restarts = from == .returned && to == .submitted
        return .success(Move(from: from, to: to, actor: actor, note: cleanNote, amountWan: amountWan, restartsClock: restarts))
    }
}
