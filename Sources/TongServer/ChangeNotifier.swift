import Synchronization

/// Tells the sync links that something was written locally or arrived from a peer, so new
/// changes are pushed within milliseconds rather than at the next anti-entropy round. A
/// generation number: a waiter compares it with the one it last acted on.
final class ChangeNotifier: Sendable {
    private let generation = Atomic<Int>(0)

    /// The current generation.
    var current: Int { generation.load(ordering: .acquiring) }

    /// Signals a change.
    func notify() { generation.add(1, ordering: .releasing) }

    /// Waits until the generation differs from `seen` or `deadline` passes.
    func wait(changedFrom seen: Int, until deadline: ContinuousClock.Instant) async {
        while current == seen, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
