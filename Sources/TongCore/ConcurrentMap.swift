import Dispatch
import Foundation

extension Array where Element: Sendable {
    /// `map` over the machine's cores (`DispatchQueue.concurrentPerform`), in order: element `k`
    /// of the result is `transform(self[k])`. For CPU work with no shared state (parsing the
    /// sets of a push, checking their content) before a write transaction, which is serial.
    /// Arrays shorter than `minimumCount` are mapped on the calling thread.
    public func concurrentMap<R: Sendable>(minimumCount: Int = 4, _ transform: @Sendable (Element) -> R) -> [R] {
        let n = count
        let workers = Swift.min(ProcessInfo.processInfo.activeProcessorCount, n)
        guard n >= minimumCount, workers > 1 else { return map(transform) }
        let out = UnsafeMutableBufferPointer<R?>.allocate(capacity: n)
        out.initialize(repeating: nil)
        defer { out.deinitialize().deallocate() }
        nonisolated(unsafe) let slots = out
        self.withUnsafeBufferPointer { items in
            nonisolated(unsafe) let input = items
            // Interleaved, so that a run of large sets is shared between the workers.
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var k = w
                while k < n {
                    slots[k] = transform(input[k])
                    k += workers
                }
            }
        }
        return out.map { $0! }
    }
}
