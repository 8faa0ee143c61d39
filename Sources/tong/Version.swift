import TongDomain

/// The string `tong --version` prints: `tong 0.3.0 (commit unknown)`.
let tongVersion = "tong \(BuildInfo.description)"
