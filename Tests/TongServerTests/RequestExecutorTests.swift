import Foundation
import Synchronization
import Hummingbird
import Testing
import TongDomain

@testable import TongServer

/// Handlers that block their thread (as every SQLite call does) must leave Swift's cooperative
/// pool free, or a graceful shutdown and `/healthz` wait behind them. (What that does to a
/// node's shutdown under load is measured by scripts/shutdown-trial, docs/operations.md: a timed
/// test here would depend on what the other tests do with the cooperative pool meanwhile.)
@Suite struct RequestExecutorTests {
    final class State: Sendable {
        let names = Mutex<[String]>([])
    }

    /// The kernel's name of the thread running this code (NIOThreadPool names its threads `TP-#n`).
    static func threadName() -> String {
        ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func handlersRunOnTheExecutorsThreadsAndNoneIsDropped() async throws {
        let executor = RequestExecutor(threads: 4)
        let state = State()
        // Twice as many handlers as the executor has threads (and more than the cooperative pool
        // has, one per core), each blocking its thread for 400 ms, as a long SQLite call does.
        let blockers = max(2 * executor.threads, ProcessInfo.processInfo.activeProcessorCount + 1)
        let clock = ContinuousClock()
        let t0 = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<blockers {
                group.addTask {
                    try await withTaskExecutorPreference(executor) {
                        state.names.withLock { $0.append(Self.threadName()) }
                        usleep(400_000)
                        // After a suspension the handler resumes on the executor too.
                        try await Task.sleep(for: .milliseconds(1))
                        state.names.withLock { $0.append(Self.threadName()) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - t0
        let names = state.names.withLock { $0 }
        // Every handler ran (none dropped), each part of it on one of the executor's threads,
        // never on a cooperative thread; 4 threads at most, so the handlers took two rounds.
        #expect(names.count == 2 * blockers)
        #expect(names.allSatisfy { $0.hasPrefix("TP-#") }, "\(Set(names))")
        #expect(Set(names).count <= executor.threads)
        #expect(elapsed >= .milliseconds(800), "\(blockers) handlers of 400 ms on \(executor.threads) threads take two rounds")
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

    @Test func pastTheQueueLimitRequestsAreRefusedAt503WithRetryAfter() async throws {
        let executor = RequestExecutor(threads: 1, queueLimit: 2)
        #expect(executor.admit() && executor.admit())
        #expect(!executor.admit() && executor.inFlight == 2, "a third request is refused and not counted")
        executor.release()
        #expect(executor.admit() && executor.inFlight == 2)
        executor.release()
        executor.release()
        #expect(executor.inFlight == 0)
        // The refusal is a 503 problem that says when to retry; other problems do not.
        let busy = HTTP.problem(HTTPProblem(NodeError(.unavailable, "busy")))
        #expect(busy.status.code == 503 && busy.headers[.retryAfter] == "1")
        #expect(HTTP.problem(HTTPProblem(NodeError.invalid("bad"))).headers[.retryAfter] == nil)
        let page = Portal.errorPage(HTTPProblem(NodeError(.unavailable, "busy")))
        #expect(page.status.code == 503 && page.headers[.retryAfter] == "1")
        // The default limit scales with the threads.
        let four = RequestExecutor(threads: 4)
        #expect(four.queueLimit == 4 * RequestExecutor.queuePerThread)
        try await four.shutdown()
        try await executor.shutdown()
    }
}
