import TongCore
import TongDomain
import TongStore

/// The region × theme table of /supervision, from search facets alone.
extension PortalSite {
    /// One region's active policies by theme.
    struct RegionLine: Sendable {
        /// Division code.
        var region: String
        /// Theme code → count.
        var themes: [String: Int]
        /// Policies of this region.
        var total: Int
    }

    /// A region filter matches the region's whole subtree, so each region's own line is its
    /// subtree minus the subtrees of the outermost regions under it that have policies.
    func regionThemeMatrix() throws -> [RegionLine] {
        var base = SearchRequest()
        base.status = PolicyValidity.State.inForce.rawValue
        base.today = node.today()
        base.limit = 0
        let regions = try node.db.search(base, kind: .policy).regionFacets.keys.sorted()
        var subtree: [String: SearchResult] = [:]
        for r in regions {
            var s = base
            s.region = r
            subtree[r] = try node.db.search(s, kind: .policy)
        }
        return regions.map { r in
            let inside = regions.filter { $0 != r && Self.region(r, contains: $0) }
            let outermost = inside.filter { c in !inside.contains { $0 != c && Self.region($0, contains: c) } }
            var themes = subtree[r]!.themeFacets
            var total = subtree[r]!.total
            for c in outermost {
                for (t, n) in subtree[c]!.themeFacets { themes[t, default: 0] -= n }
                total -= subtree[c]!.total
            }
            return RegionLine(region: r, themes: themes.filter { $0.value > 0 }, total: total)
        }
    }

    /// Whether a region filter on `a` also matches `b` (the store's rule: a province code covers
    /// its province, a city code its city; 100000 only itself).
    static func region(_ a: String, contains b: String) -> Bool {
        guard a.count == 6, b.count == 6, a != "100000" else { return a == b }
        if a.hasSuffix("0000") { return b.prefix(2) == a.prefix(2) }
        if a.hasSuffix("00") { return b.prefix(4) == a.prefix(4) }
        return a == b
    }
}
