import TongCore

/// The deterministic simulator behind `tong simulate`: the real merge, authority, flow and
/// push-session code driving N virtual nodes over a seeded, hostile network in virtual time.
public enum Simulation {
    /// The outcome of a run.
    public struct Result: Sendable {
        /// True only if every node converged to exactly what the rules say it must hold.
        public var ok: Bool
        /// One line, identical for identical inputs, with no wall-clock figure.
        public var summary: String
    }

    /// Runs N virtual nodes with faults drawn from `seed`, every node executing `rules` (the
    /// store's own by default); `brokenMerge` (tests only) makes nodes drop some received field
    /// writes, so the audit must fail, as it must with rules that skip a check.
    public static func run(
        nodes: Int, seed: UInt64, faults: SimFaults = .standard, brokenMerge: Bool = false,
        rules: ReplicaRules = .standard
    ) -> Result {
        let world = SimWorld(topology: SimTree.build(nodes: nodes), seed: seed, faults: faults, brokenMerge: brokenMerge, rules: rules)
        world.run()
        let audit = SimAudit(world)
        let c = world.counters
        var line =
            "simulate nodes=\(world.nodes.count) seed=\(seed) writes=\(c.writes) sets=\(c.sets)"
            + " records=\(audit.records) conflicted=\(audit.conflicted)"
            + " delivered=\(c.delivered) messages=\(c.messages) lost=\(c.lost) duplicated=\(c.duplicated) crashes=\(c.crashes)"
            + " partitions=\(c.partitions) forged=\(c.forged) rejected=\(c.rejected) refused=\(c.refused)"
            + " steps=\(c.steps) virtual_ms=\(world.now) converged=\(audit.failures == 0 ? "yes" : "no")"
        if audit.failures > 0, let first = audit.first {
            line += " failures=\(audit.failures) first=\"\(first.replacingOccurrences(of: "\n", with: " "))\""
        }
        return Result(ok: audit.failures == 0, summary: line)
    }
}
