import Crypto
import Foundation
import TongCore
import _CryptoExtras

/// A backup bundle (`tong backup --include-keys`): the replica and the node's private sealing
/// keys (`keys/`), the keys encrypted with a key derived from a passphrase. Without `keys/` every
/// sealed feedback item and application in the replica is unreadable, so they belong together;
/// the passphrase keeps the keys safe wherever the bundle is stored. Format (docs/operations.md):
///
///     TONG-BACKUP 1\n
///     <header: canonical JSON on one line>\n
///     <database_bytes bytes: the SQLite online backup>
///     <keys.sealed_bytes bytes: AES-256-GCM nonce (12) ‖ ciphertext ‖ tag (16)>
///
/// The key is scrypt(passphrase, salt, N, r, p) → 32 bytes; the header line is the associated
/// data, so it cannot be altered unnoticed. The plaintext is canonical JSON: path → file text.
public enum BackupBundle {
    /// First line of every bundle.
    static let magic = Array("TONG-BACKUP 1\n".utf8)
    /// scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s): the usual interactive setting.
    static let scryptN = 32_768, scryptR = 8, scryptP = 1

    /// True if `file` starts like a bundle (otherwise it is a plain SQLite backup).
    public static func isBundle(_ file: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: file) else { return false }
        defer { try? h.close() }
        return (try? h.read(upToCount: magic.count)).map { Array($0) == magic } ?? false
    }

    /// Reads a passphrase file: its first line, at least 8 characters. Throws `NodeError(.configuration)`.
    public static func passphrase(file: String) throws -> String {
        let text = try NodeHome.read(file, what: "passphrase file")
        let p = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        guard p.count >= 8 else { throw NodeError.config("the passphrase in \(file) is shorter than 8 characters") }
        return p
    }

    static func deriveKey(_ passphrase: String, salt: [UInt8], n: Int, r: Int, p: Int) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(from: Array(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: n, blockSize: r, parallelism: p)
    }

    /// Writes a bundle to `out` from a database backup file and the key files (path relative to
    /// the home → contents), encrypted with `passphrase`.
    static func write(out: String, node: String, databaseFile: String, keys: [String: String], passphrase: String, now: Date) throws {
        var g = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        let dbSize = try (FileManager.default.attributesOfItem(atPath: databaseFile)[.size] as? NSNumber)?.int64Value ?? 0
        let plain = CanonicalJSON.encode(.object(keys.mapValues { .string($0) }))
        let sealedBytes = 12 + plain.count + 16
        let header: JSONValue = [
            "format": "tong-backup", "version": 1, "node": .string(node), "created_at": .string(ISO8601DateFormatter().string(from: now)),
            "database_bytes": .int(dbSize),
            "keys": [
                "files": .strings(keys.keys.sorted()), "kdf": "scrypt", "n": .int(Int64(scryptN)), "r": .int(Int64(scryptR)),
                "p": .int(Int64(scryptP)), "salt": .string(Data(salt).base64EncodedString()), "cipher": "AES-256-GCM",
                "sealed_bytes": .int(Int64(sealedBytes)),
            ],
        ]
        let headerLine = CanonicalJSON.encode(header) + [UInt8(ascii: "\n")]
        let key = try deriveKey(passphrase, salt: salt, n: scryptN, r: scryptR, p: scryptP)
        let sealed = try AES.GCM.seal(plain, using: key, authenticating: headerLine)
        guard let combined = sealed.combined, combined.count == sealedBytes else { throw NodeError(.internal, "sealing the keys failed") }
        guard FileManager.default.createFile(atPath: out, contents: nil, attributes: [.posixPermissions: 0o600]),
            let h = FileHandle(forWritingAtPath: out)
        else { throw NodeError.config("cannot write \(out)") }
        defer { try? h.close() }
        try h.write(contentsOf: magic + headerLine)
        guard let src = FileHandle(forReadingAtPath: databaseFile) else { throw NodeError.config("cannot read \(databaseFile)") }
        defer { try? src.close() }
        while let chunk = try src.read(upToCount: 1 << 20), !chunk.isEmpty { try h.write(contentsOf: chunk) }
        try h.write(contentsOf: combined)
        try h.synchronize()
    }

    /// What a bundle holds once opened.
    struct Opened {
        var node: String
        /// Key files (path relative to the home → contents).
        var keys: [String: String]
    }

    /// Opens `file`: copies its database into `databaseOut` and decrypts its keys with
    /// `passphrase`. Throws `NodeError(.configuration)` for a damaged bundle, a missing or wrong passphrase.
    static func open(_ file: String, databaseOut: String, passphrase: String?) throws -> Opened {
        guard let h = FileHandle(forReadingAtPath: file) else { throw NodeError.config("cannot read \(file)") }
        defer { try? h.close() }
        guard let m = try h.read(upToCount: magic.count), Array(m) == magic else { throw NodeError.config("\(file) is not a Tong backup bundle") }
        var headerLine: [UInt8] = []
        while headerLine.last != UInt8(ascii: "\n") {
            guard let b = try h.read(upToCount: 1), !b.isEmpty, headerLine.count < 65_536 else {
                throw NodeError.config("\(file): the bundle header is damaged")
            }
            headerLine += b
        }
        guard let header = try? JSONParser.parse(Array(headerLine.dropLast())), header["format"] == "tong-backup",
            let node = header["node"]?.stringValue, let dbBytes = header["database_bytes"]?.intValue
        else { throw NodeError.config("\(file): the bundle header is damaged") }
        // The keys first: a wrong passphrase must fail before anything is written.
        var keys: [String: String] = [:]
        if let k = header["keys"], k != .null {
            guard let passphrase else {
                throw NodeError.config("\(file) holds encrypted keys/; pass --passphrase-file with the passphrase used for the backup")
            }
            guard let saltText = k["salt"]?.stringValue, let salt = Data(base64Encoded: saltText), let n = k["n"]?.intValue,
                let r = k["r"]?.intValue, let p = k["p"]?.intValue, let size = k["sealed_bytes"]?.intValue
            else { throw NodeError.config("\(file): the bundle header is damaged") }
            try h.seek(toOffset: UInt64(magic.count + headerLine.count) + UInt64(dbBytes))
            guard let sealed = try h.read(upToCount: Int(size)), sealed.count == size else {
                throw NodeError.config("\(file) is truncated")
            }
            let key = try deriveKey(passphrase, salt: Array(salt), n: Int(n), r: Int(r), p: Int(p))
            guard let box = try? AES.GCM.SealedBox(combined: sealed), let plain = try? AES.GCM.open(box, using: key, authenticating: headerLine),
                let files = try? JSONParser.parse(Array(plain)).objectValue
            else { throw NodeError.config("\(file): wrong passphrase, or the bundle was altered") }
            for (path, v) in files {
                // Only plain files under keys/: a bundle can never write elsewhere in the home.
                guard path.hasPrefix("keys/"), !path.contains(".."), path.split(separator: "/").count == 2, let text = v.stringValue else {
                    throw NodeError.config("\(file): unexpected file \(path) in the bundle")
                }
                keys[path] = text
            }
        }
        try h.seek(toOffset: UInt64(magic.count + headerLine.count))
        guard FileManager.default.createFile(atPath: databaseOut, contents: nil, attributes: [.posixPermissions: 0o600]),
            let out = FileHandle(forWritingAtPath: databaseOut)
        else { throw NodeError.config("cannot write \(databaseOut)") }
        defer { try? out.close() }
        var left = Int(dbBytes)
        while left > 0 {
            guard let chunk = try h.read(upToCount: min(left, 1 << 20)), !chunk.isEmpty else { throw NodeError.config("\(file) is truncated") }
            try out.write(contentsOf: chunk)
            left -= chunk.count
        }
        return Opened(node: node, keys: keys)
    }
}
