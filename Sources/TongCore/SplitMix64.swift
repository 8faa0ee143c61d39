/// SplitMix64: the one seeded generator of the project (the simulator, the benchmark corpus,
/// property tests), so a seed replays exactly on every platform (the standard library's
/// generators are either seeded by the OS or unspecified).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose whole future is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<n` (`n` > 0); multiply-high keeps the bias below 2⁻³² for our sizes.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A uniform integer in `lo...hi`.
    public mutating func between(_ lo: Int64, _ hi: Int64) -> Int64 {
        lo + Int64(below(Int(hi - lo) + 1))
    }

    /// True with probability `p` (0...1).
    public mutating func chance(_ p: Double) -> Bool {
        guard p > 0 else { return false }
        return Double(next() >> 11) * 0x1p-53 < p
    }

    /// A uniformly chosen element of a non-empty array.
    public mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }

    /// Shuffles `a` in place (Fisher-Yates), reproducibly.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, below(i + 1)) }
    }

    /// An independent generator for another concern, so adding draws to one stream leaves the other unchanged.
    public mutating func split() -> SplitMix64 { SplitMix64(seed: next()) }
}
