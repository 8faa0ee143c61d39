import TongCore

/// Builds the simulated federation: one national node, provinces with real GB/T 2260 prefixes,
/// cities `XXYY00` and counties `XXYYZZ`, in the proportions of the real federation.
public enum SimTree {
    /// The 31 mainland province-level prefixes, in code order.
    public static let provincePrefixes = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
        41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
    ]

    /// A valid topology of about `nodes` nodes (exactly, up to 31 provinces × 99 cities × 99 counties),
    /// each with one department `<id>-gov`; at least four tiers from 10 nodes on.
    public static func build(nodes n: Int) -> Topology {
        let total = max(1, n)
        var remaining = total - 1
        // About 1 province per 97 nodes at full scale; small trees get more so every tier is populated.
        let provinces = min(remaining, min(31, max(1, total >= 1_000 ? total * 31 / 3_000 : total / 20)))
        remaining -= provinces
        let cities = min(remaining, max(remaining > 0 ? 1 : 0, total * 11 / 100))
        remaining -= cities
        let counties = remaining

        var list: [Topology.Node] = [node("100000", parent: nil)]
        var provinceIDs: [Int] = []
        for p in 0..<provinces {
            provinceIDs.append(provincePrefixes[p])
            list.append(node(code(provincePrefixes[p], 0, 0), parent: "100000"))
        }
        var cityCodes: [(Int, Int)] = []
        var citiesIn = [Int](repeating: 0, count: provinces)
        for c in 0..<cities {
            let p = c % provinces
            guard citiesIn[p] < 99 else { break }
            citiesIn[p] += 1
            cityCodes.append((provinceIDs[p], citiesIn[p]))
            list.append(node(code(provinceIDs[p], citiesIn[p], 0), parent: code(provinceIDs[p], 0, 0)))
        }
        var countiesIn = [Int](repeating: 0, count: cityCodes.count)
        for k in 0..<counties where !cityCodes.isEmpty {
            let c = k % cityCodes.count
            guard countiesIn[c] < 99 else { break }
            countiesIn[c] += 1
            let (pp, yy) = cityCodes[c]
            list.append(node(code(pp, yy, countiesIn[c]), parent: code(pp, yy, 0)))
        }
        do {
            return try Topology(federation: "tong-sim", nodes: list)
        } catch {
            preconditionFailure("generated topology is invalid: \(error)")
        }
    }

    private static func code(_ p: Int, _ c: Int, _ k: Int) -> String {
        func two(_ x: Int) -> String { x < 10 ? "0\(x)" : "\(x)" }
        return two(p) + two(c) + two(k)
    }

    private static func node(_ id: String, parent: String?) -> Topology.Node {
        Topology.Node(id: id, name: "节点\(id)", parent: parent, departments: [Topology.Department(id: "\(id)-gov", name: "\(id)人民政府")])
    }
}
