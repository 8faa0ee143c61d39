import Testing
import TongCore

@Suite struct ApplicationWorkflowTests {
    /// The contract's moves, written out independently of `ApplicationWorkflow.moves`.
    static let expected: [String: ApplicationActor] = [
        "submitted>delivered": .system, "submitted>withdrawn": .applicant,
        "delivered>accepted": .department, "delivered>returned": .department, "delivered>rejected": .department,
        "delivered>withdrawn": .applicant,
        "accepted>approved": .department, "accepted>rejected": .department, "accepted>returned": .department,
        "accepted>withdrawn": .applicant,
        "returned>submitted": .applicant, "returned>withdrawn": .applicant,
        "approved>paid": .department,
    ]

    /// A note and amount that satisfy the target's requirements, so only the move and the actor decide.
    func attempt(_ from: ApplicationStatus, _ to: ApplicationStatus, _ actor: ApplicationActor)
        -> Result<ApplicationWorkflow.Move, WorkflowRefusal>
    {
        ApplicationWorkflow.move(from: from, to: to, actor: actor, note: "材料不全：缺营业执照", amountWan: to == .paid ? 12.5 : nil)
    }

    @Test func everyPairAndActor() {
        var allowed = 0
        for from in ApplicationStatus.allCases {
            for to in ApplicationStatus.allCases {
                for actor in ApplicationActor.allCases {
                    let who = Self.expected["\(from.rawValue)>\(to.rawValue)"]
                    switch attempt(from, to, actor) {
                    case .success(let m):
                        allowed += 1
                        #expect(who == actor, "\(from)→\(to) by \(actor)")
                        #expect(m.from == from && m.to == to && m.actor == actor)
                        #expect(m.restartsClock == (from == .returned && to == .submitted))
                    case .failure(let refusal):
                        #expect(who != actor, "\(from)→\(to) by \(actor)")
                        let code: WorkflowRefusal.Code = from.isTerminal ? .terminal : who == nil ? .notAllowed : .wrongActor
                        #expect(refusal.code == code, "\(from)→\(to) by \(actor)")
                        #expect(!refusal.reason.isEmpty)
                    }
                }
            }
        }
        #expect(allowed == Self.expected.count)
    }

    @Test func terminalStatuses() {
        #expect(ApplicationStatus.allCases.filter(\.isTerminal) == [.rejected, .paid, .withdrawn])
        for s in ApplicationStatus.allCases where s.isTerminal {
            for a in ApplicationActor.allCases { #expect(ApplicationWorkflow.allowed(from: s, actor: a).isEmpty) }
        }
        #expect(ApplicationStatus.approved.isOpen && !ApplicationStatus.paid.isOpen)
    }

    @Test func allowedLists() {
        #expect(ApplicationWorkflow.allowed(from: .delivered, actor: .department) == [.accepted, .returned, .rejected])
        #expect(ApplicationWorkflow.allowed(from: .accepted, actor: .applicant) == [.withdrawn])
        #expect(ApplicationWorkflow.allowed(from: .returned, actor: .applicant) == [.submitted, .withdrawn])
        #expect(ApplicationWorkflow.allowed(from: .submitted, actor: .system) == [.delivered])
        #expect(ApplicationWorkflow.allowed(from: .approved, actor: .applicant).isEmpty)
    }

    @Test func rejectingAndReturningNeedANote() {
        for to in [ApplicationStatus.rejected, .returned] {
            for note in [nil, "", "  \n "] as [String?] {
                let r = ApplicationWorkflow.move(from: .accepted, to: to, actor: .department, note: note)
                #expect(throws: WorkflowRefusal.self) { try r.get() }
                if case .failure(let f) = r { #expect(f.code == .noteRequired) }
            }
        }
        let m = try? ApplicationWorkflow.move(from: .delivered, to: .rejected, actor: .department, note: "  不符合条件 ").get()
        #expect(m?.note == "不符合条件")
        let accepted = try? ApplicationWorkflow.move(from: .delivered, to: .accepted, actor: .department, note: " ").get()
        #expect(accepted != nil && accepted?.note == nil)
    }

    @Test func payingNeedsAPositiveAmount() {
        for amount in [nil, 0, -1, .infinity, .nan, Double(ApplicationWorkflow.maxAmountWan) + 1] as [Double?] {
            let r = ApplicationWorkflow.move(from: .approved, to: .paid, actor: .department, amountWan: amount)
            if case .failure(let f) = r { #expect(f.code == .badAmount) } else { Issue.record("paid with \(String(describing: amount))") }
        }
        let paid = try? ApplicationWorkflow.move(from: .approved, to: .paid, actor: .department, amountWan: 0.5).get()
        #expect(paid?.amountWan == 0.5)
        let r = ApplicationWorkflow.move(from: .delivered, to: .accepted, actor: .department, amountWan: 3)
        if case .failure(let f) = r { #expect(f.code == .badAmount) } else { Issue.record("amount on accept") }
    }

    @Test func resubmissionRestartsTheClock() throws {
        let m = try ApplicationWorkflow.move(from: .returned, to: .submitted, actor: .applicant).get()
        #expect(m.restartsClock)
        #expect(try !ApplicationWorkflow.move(from: .submitted, to: .delivered, actor: .system).get().restartsClock)
    }

    @Test func chineseNamesAndReasons() {
        #expect(ApplicationStatus.allCases.map(\.rawValue) == [
            "submitted", "delivered", "accepted", "returned", "approved", "rejected", "paid", "withdrawn",
        ])
        #expect(ApplicationStatus.accepted.chineseName == "已受理" && ApplicationStatus.returned.chineseName == "退回补正")
        #expect(ApplicationStatus.paid.chineseName == "已兑付")
        #expect(Set(ApplicationStatus.allCases.map(\.chineseName)).count == 8)
        if case .failure(let f) = ApplicationWorkflow.move(from: .submitted, to: .approved, actor: .department) {
            #expect(f.reason == "不能从“已提交”变更为“审核通过”")
        } else { Issue.record("submitted→approved allowed") }
        if case .failure(let f) = ApplicationWorkflow.move(from: .delivered, to: .accepted, actor: .applicant) {
            #expect(f.reason.hasPrefix("只有受理部门"))
        } else { Issue.record("applicant accepted") }
        if case .failure(let f) = ApplicationWorkflow.move(from: .paid, to: .paid, actor: .department, amountWan: 1) {
            #expect(f.reason.contains("已办结"))
        } else { Issue.record("paid twice") }
    }
}
