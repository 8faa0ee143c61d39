import Testing

@testable import TongCore

@Suite struct AuthorityTests {
    let topology = try! Topology.parse(
        toml: """
            federation = "t"
            [[node]]
            id = "100000"
            name = "国家"
            [[node]]
            id = "330000"
            name = "浙江"
            parent = "100000"
            [[node]]
            id = "320000"
            name = "江苏"
            parent = "100000"
            [[node]]
            id = "330100"
            name = "杭州"
            parent = "330000"
            """)

    func policyChange(_ fields: [String: JSONValue]) -> Change {
        Change(record: "330100-p1", kind: .policy, owner: "330100", counter: 1, at: 0, context: VersionVector(), fields: fields)
    }

    @Test func ownerMayChangeEverything() {
        #expect(
            Authority.check(policyChange(["title": "x", "department": "330100-hrss"]), origin: "330100", scope: .owned("330100"), topology: topology)
                == .allowed)
    }

    @Test func ancestorMayChangeOnlyClassification() {
        #expect(
            Authority.check(policyChange(["themes": ["other"], "tags": ["a"]]), origin: "100000", scope: .owned("330100"), topology: topology)
                == .allowed)
        #expect(Authority.check(policyChange(["title": "x"]), origin: "330000", scope: .owned("330100"), topology: topology) != .allowed)
    }

    @Test func siblingsAndDescendantsMayNotChangeAnything() {
        #expect(Authority.check(policyChange(["themes": ["other"]]), origin: "320000", scope: .owned("330100"), topology: topology) != .allowed)
        let c = Change(record: "330000-p1", kind: .policy, owner: "330000", counter: 1, at: 0, context: VersionVector(), fields: ["tags": ["a"]])
        #expect(Authority.check(c, origin: "330100", scope: .owned("330000"), topology: topology) != .allowed)
    }

    @Test func departmentMustBelongToOwnerAndScopeMustMatch() {
        #expect(
            Authority.check(policyChange(["department": "320000-dof"]), origin: "330100", scope: .owned("330100"), topology: topology) != .allowed)
        #expect(Authority.check(policyChange(["title": "x"]), origin: "330100", scope: .directory, topology: topology) != .allowed)
    }

    @Test func feedbackFieldsAreSplitBetweenSubmitterAndDepartmentNode() {
        let scope = Scope.route(from: "320000", to: "330100")
        func fb(_ f: [String: JSONValue]) -> Change {
            Change(record: "320000-fx", kind: .feedback, owner: "320000", counter: 1, at: 0, context: VersionVector(), fields: f)
        }
        #expect(Authority.check(fb(["sealed": "x", "department": "330100-hrss"]), origin: "320000", scope: scope, topology: topology) == .allowed)
        #expect(Authority.check(fb(["status": "delivered"]), origin: "330100", scope: scope, topology: topology) == .allowed)
        #expect(Authority.check(fb(["status": "delivered"]), origin: "320000", scope: scope, topology: topology) != .allowed)
        #expect(Authority.check(fb(["status": "delivered"]), origin: "100000", scope: scope, topology: topology) != .allowed)
        #expect(Authority.check(fb(["sealed": "y"]), origin: "330100", scope: scope, topology: topology) != .allowed)
    }

    @Test func scopesFollowTheFlowRules() {
        #expect(Scope.owned("330100").isHeld(by: "100000", in: topology))
        #expect(!Scope.owned("330100").isHeld(by: "320000", in: topology))
        #expect(Scope.route(from: "320000", to: "330100").isHeld(by: "330000", in: topology))
        #expect(Scope.directory.isHeld(by: "320000", in: topology))
        for s in [Scope.directory, .owned("330100"), .route(from: "320000", to: "330100")] {
            #expect(Scope(key: s.key) == s)
            #expect(Scope(json: s.json) == s)
        }
    }
}
