import Hummingbird
import NIOPosix
import Synchronization
import TongDomain

/// The threads request handlers run on (a `TaskExecutor` over a `NIOThreadPool`), so that their
/// blocking work (every SQLite read and write goes through GRDB's synchronous API) never holds
/// Swift's cooperative pool, which has only as many threads as cores (two here).
///
/// Without it, 32 clients searching at once occupied both cooperative threads with SQLite for
/// seconds on end: the graceful shutdown that SIGTERM starts (ServiceLifecycle) waited its turn
/// behind them, so the node went on answering and exited 26-32 s after the signal, and
/// `/healthz` took 1-3 s (scripts/shutdown-trial). With handlers here, the cooperative pool stays free for the
/// listeners, the sync service and shutdown; requests queue for these threads instead
/// (docs/operations.md, "Stopping").
///
/// Jobs run in the order they were enqueued, and none is ever dropped (a dropped job would leave
/// its task suspended forever): see `shutdown`.
final class RequestExecutor: TaskExecutor, Sendable {
    private let pool: NIOThreadPool
    /// Threads in the pool.
    let threads: Int
    /// Most requests admitted at once, running or waiting for a thread (`admit`).
    let queueLimit: Int
    private let admitted = Atomic<Int>(0)

    /// Threads for `cores` cores: twice as many, at least 4, so that a slow request (an import, a
    /// search of a million rows) leaves others running; SQLite's readers (GRDB's pool of 5) and
    /// the cores bound the real parallelism anyway.
    static func threads(cores: Int) -> Int { max(4, 2 * cores) }

    /// Requests admitted per thread before the node answers 503: at 16 per thread (64 on two
    /// cores) the last one admitted waits well under a second behind the others at 10-20 ms a
    /// search; at 64 per thread, 400 clients made it wait 4 s and a SIGTERM 3.7 s. A flood
    /// cannot grow the queue, and the memory it holds, without bound.
    static let queuePerThread = 16

    /// Starts `threads` threads; at most `queueLimit` requests are admitted at once.
    init(threads: Int, queueLimit: Int? = nil) {
        self.threads = threads
        self.queueLimit = queueLimit ?? threads * Self.queuePerThread
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Admits one more request, or refuses it when `queueLimit` are already admitted: the
    /// caller answers 503 with `Retry-After` at once instead of queueing it.
    /// - Returns: whether it was admitted; call `release` once it finished.
    func admit() -> Bool {
        if admitted.add(1, ordering: .relaxed).newValue <= queueLimit { return true }
        admitted.subtract(1, ordering: .relaxed)
        return false
    }

    /// A request admitted by `admit` finished.
    func release() { admitted.subtract(1, ordering: .relaxed) }

    /// Requests admitted now (running or waiting).
    var inFlight: Int { admitted.load(ordering: .relaxed) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pool.submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Stops the threads. Jobs still queued are not dropped: NIO hands them back as cancelled and
    /// `enqueue` runs them anyway, on a Dispatch thread, possibly after this returns; a job
    /// enqueued afterwards runs at once on the enqueuing thread. Call it once the listeners stopped.
    /// - Throws: `NIOThreadPoolError` if the pool was already stopped.
    func shutdown() async throws { try await pool.shutdownGracefully() }
}

/// Runs the rest of the chain (the route's handler) on the `RequestExecutor`. Paths in `inline`
/// stay on the cooperative pool: `/healthz` reads only memory and must answer at once, whatever
/// queues for the executor (a load balancer's health check is what decides that a node is alive).
struct RequestExecutorMiddleware<Context: RequestContext>: RouterMiddleware {
    let executor: RequestExecutor
    var inline: Set<String> = ["/healthz"]

    /// - Throws: `NodeError.busy` (503, with `Retry-After`) when `executor.queueLimit`
    ///   requests are already admitted; whatever the handler throws.
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if inline.contains(request.uri.path) { return try await next(request, context) }
        guard executor.admit() else {
            throw NodeError(.busy, "the node is busy: \(executor.queueLimit) requests are in progress or waiting; retry in a moment")
        }
        defer { executor.release() }
        return try await withTaskExecutorPreference(executor) { try await next(request, context) }
    }
}
