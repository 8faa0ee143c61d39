import Synchronization

/// At most one log line per key per `interval`, for events a misbehaving peer can repeat
/// many times a second (a revoked node retrying its handshake: about 10 refusals a second, 1,150
/// identical lines in two minutes). A line that follows suppressed ones says how many.
final class LogThrottle: Sendable {
    /// Milliseconds between two lines for one key.
    let interval: Int64
    private let last = Mutex<[String: (at: Int64, suppressed: Int)]>([:])

    /// A throttle of one line per key per `intervalMs` milliseconds.
    init(intervalMs: Int64 = 60_000) { interval = intervalMs }

    /// Whether to log the event `key` at `now` (ms), and how many were suppressed since the last
    /// line; nil when it is to be suppressed.
    func admit(_ key: String, now: Int64) -> Int? {
        last.withLock { table in
            if let l = table[key], now - l.at < interval {
                table[key] = (l.at, l.suppressed + 1)
                return nil
            }
            // Bounded: the oldest key goes first (its next event is simply logged again).
            if table[key] == nil, table.count >= 1_000, let oldest = table.min(by: { $0.value.at < $1.value.at })?.key {
                table[oldest] = nil
            }
            let suppressed = table[key]?.suppressed ?? 0
            table[key] = (now, 0)
            return suppressed
        }
    }
}
