import Synchronization

/// What the node knows of its own storage: healthy until an integrity check fails, then the
/// reason, which `/healthz` reports (503) until the node is restarted on a repaired replica.
public final class NodeHealth: Sendable {
    private let state = Mutex<String?>(nil)
    /// Makes a healthy one.
    public init() {}
    /// Why the replica is considered corrupt, or nil while it is not.
    public var corruption: String? { state.withLock { $0 } }
    /// Records a failed integrity check.
    package func corrupt(_ reason: String) { state.withLock { $0 = reason } }
}
