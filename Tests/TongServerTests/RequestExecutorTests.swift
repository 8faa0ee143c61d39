import Foundation
import Synchronization
import Hummingbird
import Logging
import Testing
import TongDomain
import TongTools

@testable import TongServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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

    @Test(.timeLimit(.minutes(1))) func aJobEnqueuedAfterShutdownStillRuns() async throws {
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
        // The refusal is a 503 problem that says when to retry; other problems, other 503s too
        // (a revoked certificate, a damaged replica: a second's wait cures neither), do not.
        let busy = HTTP.problem(HTTPProblem(NodeError(.busy, "busy")))
        #expect(busy.status.code == 503 && busy.headers[.retryAfter] == "1")
        #expect(HTTP.problem(HTTPProblem(NodeError.invalid("bad"))).headers[.retryAfter] == nil)
        let held = HTTP.problem(HTTPProblem(NodeError(.unavailable, "catching up")))
        #expect(held.status.code == 503 && held.headers[.retryAfter] == nil)
        let page = Portal.errorPage(HTTPProblem(NodeError(.busy, "busy")))
        #expect(page.status.code == 503 && page.headers[.retryAfter] == "1")
        // The default limit scales with the threads.
        let four = RequestExecutor(threads: 4)
        #expect(four.queueLimit == 4 * RequestExecutor.queuePerThread)
        try await four.shutdown()
        try await executor.shutdown()
    }

    /// The middleware as a node runs it: with no room left, an API request and a portal page
    /// are refused at once with 503 and `Retry-After`, while `/healthz` still answers.
    @Test func aNodeWithNoRoomLeftRefusesRequestsButAnswersHealthz() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let root = NSTemporaryDirectory() + "tong-busy-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try LocalFederation(topologyText: TestTree.toml(["330000"]), root: root, freePorts: true, logger: logger)
        let server = NodeServer(node: fed.nodes["330000"]!, requestQueueLimit: 0)
        let run = Task { try await server.run(signals: []) }
        defer { run.cancel() }
        try await DemoRunner.waitUntil(seconds: 30) { server.httpPort != nil }
        let base = "http://127.0.0.1:\(server.httpPort!)"
        func get(_ path: String) async throws -> HTTPURLResponse {
            let (_, r) = try await URLSession.shared.data(from: URL(string: base + path)!)
            return try #require(r as? HTTPURLResponse)
        }
        #expect(try await get("/healthz").statusCode == 200)
        let api = try await get("/api/v1/policies")
        #expect(api.statusCode == 503 && api.value(forHTTPHeaderField: "Retry-After") == "1")
        #expect(api.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("application/problem+json") == true)
        let page = try await get("/")
        #expect(page.statusCode == 503 && page.value(forHTTPHeaderField: "Retry-After") == "1")
        await server.shutdown()
        _ = try? await run.value
    }
}
