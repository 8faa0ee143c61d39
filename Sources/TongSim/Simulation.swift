import TongCore

/// The deterministic simulator (placeholder until the simulator lands).
public enum Simulation {
    /// The outcome of a run.
    public struct Result: Sendable { public var ok: Bool; public var summary: String }
    /// Runs N virtual nodes with faults drawn from `seed`.
    public static func run(nodes: Int, seed: UInt64) -> Result { Result(ok: false, summary: "simulate: not implemented yet") }
}
