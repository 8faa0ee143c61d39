import Logging
import ServiceLifecycle

/// Checks the replica with SQLite's `quick_check` every `[storage] integrity_check_interval_ms`
/// (10 minutes by default) while the node runs. A failure is logged once as an error and kept
/// in `node.health`, so `/healthz` answers 503 `{"status": "corrupt", "reason": …}` and
/// `tong_storage_ok` drops to 0; the node keeps serving what it still can.
public struct IntegrityService: Service {
    let node: TongNode

    /// A service for `node`.
    public init(node: TongNode) { self.node = node }

    public func run() async throws {
        let node = self.node
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(node.config.integrityCheckIntervalMs))
                if Task.isCancelled { return }
                node.checkIntegrity()
            }
        }
    }
}

extension TongNode {
    /// Runs one integrity check now; returns the problem (also recorded in `health`) or nil.
    @discardableResult
    package func checkIntegrity() -> String? {
        guard health.corruption == nil else { return health.corruption }
        guard let problem = db.integrityProblem() else { return nil }
        health.corrupt(problem)
        logger.error("replica is corrupt", metadata: ["db.path": .string(db.path), "reason": .string(problem)])
        return problem
    }
}
