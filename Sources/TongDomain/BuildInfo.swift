/// What this binary is: its version and, when the build recorded it, its git commit. Reported by
/// `tong --version`, `tong_build_info` on `/metrics` and the `sync` object of the stats record
/// every node publishes (so `tong status` at the root shows which version each node runs).
public enum BuildInfo {
    /// The release version (semantic versioning).
    public static let version = "0.3.0"
    /// The git commit the binary was built from, or "unknown". SwiftPM cannot pass a string into
    /// the build, so this is "unknown" unless a release build replaces `BuildCommit.swift`
    /// (see docs/operations.md); it is never read from git at run time.
    public static var commit: String { buildCommit }
    /// `0.3.0 (commit abc1234)` or `0.3.0 (commit unknown)`.
    public static var description: String { "\(version) (commit \(commit))" }
}
