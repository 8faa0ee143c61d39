/// How hostile the simulated network and machines are during the write phase.
public struct SimFaults: Sendable, Equatable {
    /// Probability that a message is lost.
    public var loss: Double
    /// Probability that a message is delivered twice.
    public var duplication: Double
    /// Shortest one-way delay (ms).
    public var minDelay: Int64
    /// Longest one-way delay (ms); a wide range reorders messages.
    public var maxDelay: Int64
    /// Node crashes per 100 nodes over the write phase.
    public var crashesPer100: Int
    /// Link partitions per 100 nodes over the write phase.
    public var partitionsPer100: Int

    /// Makes a fault profile.
    public init(loss: Double, duplication: Double, minDelay: Int64, maxDelay: Int64, crashesPer100: Int, partitionsPer100: Int) {
        self.loss = loss; self.duplication = duplication; self.minDelay = minDelay; self.maxDelay = maxDelay
        self.crashesPer100 = crashesPer100; self.partitionsPer100 = partitionsPer100
    }

    /// The profile `tong simulate` uses: every kind of fault, often enough to matter.
    public static let standard = SimFaults(loss: 0.05, duplication: 0.03, minDelay: 2, maxDelay: 250, crashesPer100: 4, partitionsPer100: 3)

    /// A perfect network and machines (still with varied delays).
    public static let none = SimFaults(loss: 0, duplication: 0, minDelay: 2, maxDelay: 250, crashesPer100: 0, partitionsPer100: 0)
}
