import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes secret material to disk without ever exposing it to other users.
public enum KeyFile {
    /// Writes a file with permissions 0600 (created 0600 from the start and atomically renamed into place, never world-readable even briefly).
    public static func writePrivate(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: dir) {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        // A fresh O_EXCL temp file means a pre-existing file with loose permissions (or a symlink) is never reused.
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PeerError(.io, "cannot create \(tmp): errno \(errno)") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            // umask can only narrow the mode, but fchmod makes 0600 explicit regardless of umask quirks.
            guard fchmod(fd, 0o600) == 0 else { throw PeerError(.io, "fchmod \(tmp): errno \(errno)") }
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    write(fd, raw.baseAddress! + written, bytes.count - written)
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PeerError(.io, "write \(tmp): errno \(errno)")
                }
                written += n
            }
            guard fsync(fd) == 0 else { throw PeerError(.io, "fsync \(tmp): errno \(errno)") }
        }
        guard rename(tmp, path) == 0 else { throw PeerError(.io, "rename to \(path): errno \(errno)") }
        ok = true
    }
}
