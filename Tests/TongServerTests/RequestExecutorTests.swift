import Foundation
import Synchronization
import Testing

@testable import TongServer

/// Handlers that block their thread (as every SQLite call does) must leave Swift's cooperative
/// pool free, or a graceful shutdown and `/healthz` wait behind them.
@Suite struct RequestExecutorTests {
    final class State: Sendable {
        let started = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let waits = Mutex<[Duration]>([])
    }

    @Test func blockedHandlersLeaveTheCooperativePoolFree() async throws {
        let executor = RequestExecutor(threads: 4)
        let state = State()
        // Twice as many handlers as the executor has threads (and more than the cooperative pool
        // has, one per core), each blocking its thread for 400 ms.
        let blockers = max(2 * executor.threads, ProcessInfo.processInfo.activeProcessorCount + 1)
        let clock = ContinuousClock()
        // Meanwhile a plain thread starts a task every 20 ms and records how long each waited
        // for a cooperative thread.
        let prober = Thread {
            while !state.stop.load(ordering: .relaxed) {
                let sent = clock.now
                Task.detached { state.waits.withLock { $0.append(clock.now - sent) } }
                usleep(20_000)
            }
        }
        let t0 = clock.now
        prober.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<blockers {
                group.addTask {
                    try await withTaskExecutorPreference(executor) {
                        state.started.add(1, ordering: .relaxed)
                        usleep(400_000)
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - t0
        state.stop.store(true, ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(50))
        let waits = state.waits.withLock { $0 }
        // Every handler ran (none dropped), in two rounds on the executor's threads...
        #expect(state.started.load(ordering: .relaxed) == blockers)
        #expect(elapsed >= .milliseconds(800), "\(blockers) handlers of 400 ms on \(executor.threads) threads take two rounds")
        // ...and no task waited for a cooperative thread meanwhile (on the cooperative pool
        // itself, the handlers made them wait up to 400 ms).
        #expect(waits.count >= 20)
        #expect(waits.max() ?? .zero < .milliseconds(150), "a task waited \(waits.max() ?? .zero) for a cooperative thread")
        try await executor.shutdown()
    }

    @Test func aJobEnqueuedAfterShutdownStillRuns() async throws {
        let executor = RequestExecutor(threads: 1)
        try await executor.shutdown()
        let ran = try await withTaskExecutorPreference(executor) { () async throws -> Bool in
            try await Task.sleep(for: .milliseconds(1))
            return true
        }
        #expect(ran)
    }
}
