import Synchronization

/// Wakes every sync link when something was written locally or arrived from a peer, so new
/// changes are pushed within milliseconds, not at the next anti-entropy round.
final class ChangeNotifier: Sendable {
    private let continuations = Mutex<[AsyncStream<Void>.Continuation]>([])

    /// A stream that yields after each change (coalesced).
    func subscribe() -> AsyncStream<Void> {
        let (stream, cont) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        continuations.withLock { $0.append(cont) }
        return stream
    }

    /// Signals a change.
    func notify() {
        continuations.withLock { for c in $0 { c.yield() } }
    }

    /// Ends every stream.
    func finish() {
        continuations.withLock { for c in $0 { c.finish() }; $0.removeAll() }
    }
}
