/// A position in a sender's change log, as its receiver knows it.
public struct Cursor: Sendable, Hashable, Codable {
    /// The sender's log epoch: changes when the sender is restored, so old positions are void.
    public var epoch: String
    /// Last log sequence number of the sender the receiver has applied.
    public var seq: Int64
    /// Makes a cursor.
    public init(epoch: String, seq: Int64) { self.epoch = epoch; self.seq = seq }
    /// JSON form.
    public var json: JSONValue { ["epoch": .string(epoch), "seq": .int(seq)] }
    /// Parses the JSON form.
    public init?(json: JSONValue?) {
        guard let e = json?["epoch"]?.stringValue, let s = json?["seq"]?.intValue, s >= 0 else { return nil }
        self.init(epoch: e, seq: s)
    }
}

/// The sending half of a sync link as a pure state machine: it decides, the shell acts.
/// The receiver holds the cursor (what it applied of our log), so an interrupted sync
/// resumes where it stopped and an idle exchange is one small message per peer.
public struct PushSession: Sendable {
    /// What the shell must do next.
    public enum Action: Sendable, Equatable {
        /// Ask the peer for its cursor on our log.
        case hello
        /// Send our log entries after `after` (the peer's cursor) to the peer.
        case push(after: Int64)
        /// Nothing to do until `until` (ms) or a local change, whichever first.
        case wait(until: Int64)
    }

    private enum State: Sendable, Equatable {
        case needHello
        case known(Int64)  // peer's cursor on our current epoch
        case failing(until: Int64, attempts: Int)
    }

    private var state: State = .needHello
    /// Our log epoch.
    public let epoch: String
    /// Anti-entropy period (ms): how often an idle link is re-checked.
    public let idleInterval: Int64
    /// Longest wait after failures (ms).
    public let maxBackoff: Int64
    private var lastContact: Int64 = 0

    /// A session for our log `epoch`.
    public init(epoch: String, idleInterval: Int64 = 5_000, maxBackoff: Int64 = 10_000) {
        self.epoch = epoch; self.idleInterval = idleInterval; self.maxBackoff = maxBackoff
    }

    /// The peer's cursor as last known, if any.
    public var peerCursor: Int64? { if case .known(let s) = state { return s } else { return nil } }

    /// The next action, given the head of our log (its highest sequence number) and the time.
    public mutating func next(head: Int64, now: Int64) -> Action {
        switch state {
        case .needHello:
            return .hello
        case .failing(let until, _):
            if now >= until { state = .needHello; return .hello }
            return .wait(until: until)
        case .known(let s):
            if s < head { return .push(after: s) }
            // Anti-entropy: re-ask periodically even when we believe the peer is current,
            // in case it was restored or lost something.
            if now - lastContact >= idleInterval { return .hello }
            return .wait(until: lastContact + idleInterval)
        }
    }

    /// The peer answered our hello with its cursor on our log.
    public mutating func answered(cursor: Cursor, now: Int64) {
        lastContact = now
        // A cursor from another epoch of ours means the peer must start over from 0.
        state = .known(cursor.epoch == epoch ? cursor.seq : 0)
    }

    /// The request failed (network, TLS, 5xx): back off exponentially.
    public mutating func failed(now: Int64) {
        let attempts: Int
        if case .failing(_, let a) = state { attempts = a + 1 } else { attempts = 1 }
        let delay = min(maxBackoff, Int64(100) << Int64(min(attempts, 10)))
        state = .failing(until: now + delay, attempts: attempts)
    }

    /// Whether the link is currently considered up.
    public var connected: Bool { if case .known = state { return true } else { return false } }
}
