import Testing
import TongCore

private typealias Node = Topology.Node
private typealias Department = Topology.Department

/// national 100000; provinces 330000, 320000; cities 330100, 330200, 320100; county 330106 under 330100.
private func fourTier() throws -> Topology {
    try Topology(
        federation: "demo",
        nodes: [
            Node(
                id: "100000", name: "国家政务服务平台", http: "127.0.0.1:8100", peer: "127.0.0.1:9100",
                departments: [Department(id: "100000-mof", name: "财政部")]),
            Node(id: "330000", name: "浙江省", parent: "100000"),
            Node(id: "320000", name: "江苏省", parent: "100000"),
            Node(id: "330100", name: "杭州市", parent: "330000"),
            Node(id: "330200", name: "宁波市", parent: "330000"),
            Node(id: "320100", name: "南京市", parent: "320000"),
            Node(id: "330106", name: "西湖区", parent: "330100"),
        ])
}

/// The error `build` throws, or nil; untyped so closures written inside `#require`/`#expect` infer cleanly.
private func topologyError(_ build: () throws -> Topology) -> TopologyError? {
    do {
        _ = try build()
        return nil
    } catch {
        return error as? TopologyError
    }
}

@Suite struct TopologyTests {
    static let sample = """
        federation = "demo"
        [[node]]
        id = "100000"
        name = "国家政务服务平台"
        http = "127.0.0.1:8100"
        peer = "127.0.0.1:9100"
          [[node.department]]
          id = "100000-mof"
          name = "财政部"
        [[node]]
        id = "330000"
        name = "浙江省"
        parent = "100000"
        http = "127.0.0.1:8101"
        peer = "127.0.0.1:9101"
        """

    @Test func parsesSampleFile() throws {
        let t = try Topology.parse(toml: Self.sample)
        #expect(t.federation == "demo")
        #expect(t.root == "100000")
        #expect(t.nodes.map(\.id) == ["100000", "330000"])
        #expect(t.node("100000")?.departments == [Department(id: "100000-mof", name: "财政部")])
        #expect(t.node("330000")?.peer == "127.0.0.1:9101")
        #expect(t.node("330000")?.parent == "100000")
        #expect(t.departmentOwner("100000-mof") == "100000")
        #expect(t.departmentOwner("330000-unlisted") == "330000")
        #expect(t.departmentOwner("320000-x") == nil)
        #expect(t.departmentOwner("garbage") == nil)
    }

    @Test func roundTripsThroughTOML() throws {
        let t = try fourTier()
        var nodes = t.nodes
        nodes[1].name = "浙江\"省\"\\\n"
        let odd = try Topology(federation: "demo", nodes: nodes)
        #expect(try Topology.parse(toml: t.toTOML()) == t)
        #expect(try Topology.parse(toml: odd.toTOML()) == odd)
        #expect(try Topology.parse(toml: Topology.parse(toml: Self.sample).toTOML()) == Topology.parse(toml: Self.sample))
    }

    @Test func queries() throws {
        let t = try fourTier()
        #expect(t.root == "100000")
        #expect(t.parent(of: "330106") == "330100")
        #expect(t.parent(of: "100000") == nil)
        #expect(t.parent(of: "999999") == nil)
        #expect(t.children(of: "100000") == ["320000", "330000"])
        #expect(t.children(of: "330000") == ["330100", "330200"])
        #expect(t.children(of: "330106") == [])
        #expect(t.ancestors(of: "330106") == ["330100", "330000", "100000"])
        #expect(t.ancestors(of: "100000") == [])
        #expect(t.descendants(of: "330000") == ["330100", "330200", "330106"])
        #expect(t.depth(of: "330106") == 3)
        #expect(t.isAncestor("100000", of: "330106"))
        #expect(t.isAncestor("330000", of: "330106"))
        #expect(!t.isAncestor("330106", of: "330106"))
        #expect(!t.isAncestor("320000", of: "330106"))
        #expect(!t.isAncestor("330106", of: "100000"))
        #expect(t.isNeighbor("330000", "100000") && t.isNeighbor("100000", "330000"))
        #expect(!t.isNeighbor("330000", "320000"))
        #expect(!t.isNeighbor("330106", "330000"))
        #expect(!t.isNeighbor("330000", "330000"))
    }

    @Test func holdsFollowsTheFlowRule() throws {
        let t = try fourTier()
        for n in ["330106", "330100", "330000", "100000"] {
            #expect(t.holds(node: n, recordOwnedBy: "330106"), "\(n)")
        }
        for n in ["330200", "320000", "320100"] {
            #expect(!t.holds(node: n, recordOwnedBy: "330106"), "\(n)")
        }
        for n in t.nodes.map(\.id) {
            #expect(t.holds(node: n, recordOwnedBy: "100000"), "\(n)")
        }
        // A province's records reach its whole subtree and the national node only.
        #expect(t.holds(node: "330106", recordOwnedBy: "330000"))
        #expect(!t.holds(node: "320100", recordOwnedBy: "330000"))
        #expect(!t.holds(node: "999999", recordOwnedBy: "330000"))
        #expect(Set(t.holders(ofRecordOwnedBy: "330100")) == ["330100", "330106", "330000", "100000"])
    }

    @Test func pathsAndNextHops() throws {
        let t = try fourTier()
        #expect(t.path(from: "330106", to: "320100") == ["330106", "330100", "330000", "100000", "320000", "320100"])
        #expect(t.path(from: "320100", to: "330106") == ["320100", "320000", "100000", "330000", "330100", "330106"])
        #expect(t.path(from: "330106", to: "330200") == ["330106", "330100", "330000", "330200"])
        #expect(t.path(from: "100000", to: "330106") == ["100000", "330000", "330100", "330106"])
        #expect(t.path(from: "330106", to: "330106") == ["330106"])
        #expect(t.path(from: "330106", to: "999999") == [])

        #expect(t.nextHop(from: "330106", toward: "320100") == "330100")
        #expect(t.nextHop(from: "100000", toward: "330106") == "330000")
        #expect(t.nextHop(from: "330000", toward: "330106") == "330100")
        #expect(t.nextHop(from: "330200", toward: "330106") == "330000")
        #expect(t.nextHop(from: "330100", toward: "320000") == "330000")
        #expect(t.nextHop(from: "330100", toward: "330100") == nil)
        #expect(t.nextHop(from: "330100", toward: "999999") == nil)
        // nextHop agrees with path everywhere.
        for a in t.nodes.map(\.id) {
            for b in t.nodes.map(\.id) where a != b {
                #expect(t.nextHop(from: a, toward: b) == t.path(from: a, to: b)[1])
            }
        }
    }

    @Test func validationErrors() throws {
        func nodes(_ pairs: [(String, String?)]) -> [Node] {
            pairs.map { Node(id: $0.0, name: "n\($0.0)", parent: $0.1) }
        }
        let cycle = try #require(
            topologyError {
                try Topology(federation: "f", nodes: nodes([("100000", nil), ("330000", "330100"), ("330100", "330000")]))
            })
        #expect(cycle.message.contains("cycle") && cycle.message.contains("330000") && cycle.message.contains("330100"))

        let twoRoots = try #require(
            topologyError {
                try Topology(federation: "f", nodes: nodes([("100000", nil), ("330000", nil)]))
            })
        #expect(twoRoots.message.contains("exactly one root") && twoRoots.message.contains("330000"))

        let noRoot = try #require(
            topologyError {
                try Topology(federation: "f", nodes: nodes([("330000", "320000"), ("320000", "330000")]))
            })
        #expect(noRoot.message.contains("no root"))

        let unknownParent = try #require(
            topologyError {
                try Topology(federation: "f", nodes: nodes([("100000", nil), ("330000", "320000")]))
            })
        #expect(unknownParent == TopologyError("unknown parent '320000'", node: "330000"))
        #expect(unknownParent.description == "topology node 330000: unknown parent '320000'")

        var wrong = nodes([("100000", nil), ("330000", "100000")])
        wrong[1].departments = [Department(id: "100000-mof", name: "财政部")]
        let wrongDept = try #require(topologyError { try Topology(federation: "f", nodes: wrong) })
        #expect(wrongDept.node == "330000" && wrongDept.message.contains("belongs to node 100000"))

        var dupDept = nodes([("100000", nil)])
        dupDept[0].departments = [Department(id: "100000-a", name: "A"), Department(id: "100000-a", name: "B")]
        #expect(topologyError { try Topology(federation: "f", nodes: dupDept) }?.message.contains("duplicate department") == true)

        var badDept = nodes([("100000", nil)])
        badDept[0].departments = [Department(id: "100000-A", name: "A")]
        #expect(topologyError { try Topology(federation: "f", nodes: badDept) }?.message.contains("department id") == true)

        #expect(
            topologyError { try Topology(federation: "f", nodes: nodes([("100000", nil), ("100000", "100000")])) }?
                .message.contains("duplicate node id") == true)
        #expect(
            topologyError { try Topology(federation: "f", nodes: nodes([("100000", nil), ("990000", "100000")])) }?
                .node == "#2")
        #expect(
            topologyError { try Topology(federation: " ", nodes: nodes([("100000", nil)])) }?
                .message.contains("federation") == true)
        #expect(topologyError { try Topology(federation: "f", nodes: []) } != nil)
        #expect(
            topologyError { try Topology(federation: "f", nodes: [Node(id: "100000", name: "")]) }?
                .message.contains("name") == true)
    }

    @Test(arguments: ["127.0.0.1:8100", "localhost:1", "node-1.zj.gov.cn:65535", "a:443"])
    func goodAddresses(_ a: String) throws {
        #expect(Topology.validAddress(a))
        #expect(throws: Never.self) {
            try Topology(federation: "f", nodes: [Node(id: "100000", name: "n", http: a, peer: a)])
        }
    }

    @Test(arguments: [
        "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":8100", "host:", "256.0.0.1:80",
        "a b:80", "host:80x", "-bad:80", "http://x:80", "1.2.3:80",
    ])
    func badAddresses(_ a: String) throws {
        #expect(!Topology.validAddress(a))
        let e = try #require(
            topologyError {
                try Topology(federation: "f", nodes: [Node(id: "100000", name: "n", peer: a)])
            })
        #expect(e.node == "100000" && e.message.contains("peer"))
    }

    @Test(arguments: [
        ("federation = \"f\"\n[[node]]\nid = \"100000\"\nname = \"n\"\nname = \"m\"", "duplicate key 'name'", 5),
        ("federation = \"f\"\n[[node]]\nid = \"100000\"\nname = \"unterminated", "unterminated string", 4),
    ])
    func tomlErrorsKeepLine(_ text: String, _ fragment: String, _ line: Int) throws {
        let e = try #require(topologyError { try Topology.parse(toml: text) })
        #expect(e.line == line && e.message.contains(fragment))
        #expect(e.description.contains("line \(line)"))
    }

    @Test(arguments: [
        ("[[node]]\nid = \"100000\"\nname = \"n\"", "federation name is missing"),
        ("federation = 1\n[[node]]\nid = \"100000\"\nname = \"n\"", "'federation' must be a string"),
        ("federation = \"f\"", "no nodes"),
        ("federation = \"f\"\n[node]\nid = \"100000\"", "array of tables"),
        ("federation = \"f\"\n[[node]]\nid = \"100000\"", "'name' is missing"),
        ("federation = \"f\"\n[[node]]\nid = 100000\nname = \"n\"", "'id' must be a string"),
        ("federation = \"f\"\n[[node]]\nid = \"100000\"\nname = \"n\"\nprent = \"x\"", "unknown key 'prent'"),
        ("federation = \"f\"\nextra = 1\n[[node]]\nid = \"100000\"\nname = \"n\"", "unknown top-level key 'extra'"),
        (
            "federation = \"f\"\n[[node]]\nid = \"100000\"\nname = \"n\"\n[[node.department]]\nid = \"100000-a\"",
            "department 'name' is missing"
        ),
        ("federation = \"f\"\n[[node.department]]\nid = \"100000-a\"\nname = \"A\"", "array of tables"),
    ])
    func structuralErrors(_ text: String, _ fragment: String) throws {
        let e = try #require(topologyError { try Topology.parse(toml: text) })
        #expect(e.message.contains(fragment), "\(e)")
    }

    @Test func scalesToThousandsOfNodes() throws {
        // 1 national, 31 provinces, ~3,000 descendants in a deep-ish tree, built without the clock for determinism.
        let provinces = Validation.provincePrefixes.sorted()
        var nodes = [Node(id: "100000", name: "国家")]
        var leaves: [String] = []
        for p in provinces {
            let pid = String(format2(p)) + "0000"
            nodes.append(Node(id: pid, name: "p\(p)", parent: "100000"))
            for c in 1...12 {
                let cid = format2(p) + format2(c) + "00"
                nodes.append(Node(id: cid, name: "c", parent: pid))
                for d in 1...7 {
                    let did = format2(p) + format2(c) + format2(d)
                    nodes.append(Node(id: did, name: "d", parent: cid))
                    leaves.append(did)
                }
            }
        }
        let t = try Topology(federation: "big", nodes: nodes)
        #expect(t.nodes.count > 3_000)
        let toml = t.toTOML()
        #expect(try Topology.parse(toml: toml) == t)
        var held = 0
        for leaf in leaves {
            for other in leaves.prefix(50) where t.holds(node: other, recordOwnedBy: leaf) { held += 1 }
            #expect(t.path(from: leaf, to: "100000").count == 4)
        }
        #expect(held == 50)
    }
}

private func format2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
