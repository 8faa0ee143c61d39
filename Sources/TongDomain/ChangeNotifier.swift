import Synchronization

/// Tells the sync links that something was written locally or arrived from a peer, so new
/// changes are pushed within milliseconds rather than at the next anti-entropy round. A
/// generation number: a waiter compares it with the one it last acted on.
///
/// Waiting costs nothing while nothing happens: a waiter is a suspended continuation that
/// `notify()` resumes (no polling), or its deadline's sleep ends it.
package final class ChangeNotifier: Sendable {
    private struct State {
        var generation = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waiters cancelled before they suspended: they must not suspend at all.
        var cancelled: Set<UInt64> = []
    }
    private let state = Mutex(State())

    package init() {}

    /// The current generation.
    package var current: Int { state.withLock { $0.generation } }

    /// Signals a change: every waiter wakes.
    package func notify() {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.generation += 1
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for c in woken { c.resume() }
    }

    /// Waits until the generation differs from `seen`, `deadline` passes, or the task is cancelled.
    package func wait(changedFrom seen: Int, until deadline: ContinuousClock.Instant) async {
        guard current == seen, ContinuousClock.now < deadline, !Task.isCancelled else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            group.addTask { await self.changed(from: seen) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Suspends until the generation differs from `seen` (or the task is cancelled).
    private func changed(from seen: Int) async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1; return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.generation != seen || s.cancelled.remove(id) != nil { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if let c = s.waiters.removeValue(forKey: id) { return c }
                s.cancelled.insert(id)
                return nil
            }
            c?.resume()
        }
        state.withLock { _ = $0.cancelled.remove(id) }
    }
}
