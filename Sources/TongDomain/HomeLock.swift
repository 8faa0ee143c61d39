import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a node home while a process uses it: `data/tong.lock`, held with
/// flock(2), so the kernel releases it when the process ends, even by kill -9. `tong serve`
/// holds it while it runs; `tong policy import` holds it while it writes; `tong restore`
/// checks it is free. The file names the holder (pid and addresses) for the refusal message.
public final class HomeLock: Sendable {
    private let fd: Int32
    private let released = Mutex(false)
    /// The lock file.
    public let path: String

    private init(fd: Int32, path: String) { self.fd = fd; self.path = path }

    /// The lock file of the home whose replica is `databaseFile` (`<home>/data/tong.sqlite`).
    public static func path(databaseFile: String) -> String { (databaseFile as NSString).deletingLastPathComponent + "/tong.lock" }

    /// Takes the home's lock, recording `holder` (e.g. `pid 12, http 127.0.0.1:8101`) in it.
    /// Throws `NodeError(.configuration)` naming the home and the current holder when it is taken.
    public static func acquire(databaseFile: String, holder: String) throws -> HomeLock {
        let path = path(databaseFile: databaseFile)
        let home = ((databaseFile as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NodeError.config("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let current = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw NodeError.config(
                "node home \(home) is in use by another tong process\(current.isEmpty ? "" : " (\(current))"); stop it first")
        }
        let text = holder + "\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        return HomeLock(fd: fd, path: path)
    }

    /// Throws `NodeError(.configuration)` if a process holds `home`'s lock (a node running on it).
    public static func ensureStopped(_ home: NodeHome) throws {
        guard FileManager.default.fileExists(atPath: path(databaseFile: home.databaseFile)) else { return }
        try acquire(databaseFile: home.databaseFile, holder: "pid \(getpid()), checking").release()
    }

    /// Releases the lock (also released when the process ends).
    public func release() {
        let first = released.withLock { r -> Bool in
            defer { r = true }
            return !r
        }
        guard first else { return }
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
