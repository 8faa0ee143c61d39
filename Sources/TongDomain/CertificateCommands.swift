import Crypto
import Foundation
import Logging
import TongCore
import TongPeer

/// The `tong ca` commands, one step at a time, so that private keys never travel: the CA
/// operator holds `ca.key`; each node makes its own key and a request (`request`), the CA signs
/// the request (`sign`) and only the certificate goes back (`install`). `renew` is the three at
/// once for an operator who holds both; `revoke` and `publishRevocations` handle revocation.
/// A CA folder holds `ca.pem`, `ca.key` (0600), `issued/<node>-<serial>.pem` (every certificate
/// it signed) and `revocations.json` (its latest revocation list).
public enum CertificateCommands {
    /// Makes a CA in `out`.
    /// - Throws: `NodeError.configuration` if `out` already holds a CA key.
    public static func initCA(federation: String, out: String, now: Date = Date()) throws {
        try FileManager.default.createDirectory(atPath: out + "/issued", withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: out + "/ca.key") else {
            throw NodeError.config("\(out)/ca.key exists; refusing to overwrite a CA")
        }
        let ca = try FederationCA.create(federation: federation, now: now)
        try ca.certificatePEM.write(toFile: out + "/ca.pem", atomically: true, encoding: .utf8)
        try KeyFile.writePrivate(ca.privateKeyPEM, to: out + "/ca.key")
    }

    /// What `request` wrote.
    public struct Request: Sendable {
        /// The request to hand to the CA operator.
        public var csrFile: String
        /// True if the home already had a certificate (a renewal: the new key waits in `certs/next.key`).
        public var renewal: Bool
    }

    /// Makes the node's private key in its home (0600) and a certificate signing request for it.
    /// A home without `node.toml` is laid out first from `topologyFile` for `node`. A home that
    /// already has a certificate gets a renewal: `certs/next.key` and `certs/next.csr`, swapped
    /// in by `install`, so the node keeps signing with its current key until then.
    /// - Throws: `NodeError.configuration` (no home and no `node`/`topologyFile`, another node's home).
    public static func request(home: NodeHome, node: String? = nil, topologyFile: String? = nil) throws -> Request {
        if !FileManager.default.fileExists(atPath: home.configFile) {
            guard let node, let topologyFile else {
                throw NodeError.config("\(home.path) holds no node home yet: pass --node and --topology to lay it out")
            }
            try FederationLayout.lay(node: node, topology: try topology(topologyFile), into: home)
        }
        let config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        if let node, node != config.nodeID { throw NodeError.config("\(home.path) is the home of \(config.nodeID), not \(node)") }
        let name = try topology(home.topologyFile).node(config.nodeID)?.name ?? ""
        let renewal = FileManager.default.fileExists(atPath: home.certFile)
        let (key, csr) = try FederationCA.request(nodeID: config.nodeID, nodeName: name)
        try FileManager.default.createDirectory(atPath: home.path + "/certs", withIntermediateDirectories: true)
        try NodeHome.writeSecret(key, to: renewal ? home.nextKeyFile : home.keyFile)
        let csrFile = renewal ? home.nextRequestFile : home.requestFile
        try csr.write(toFile: csrFile, atomically: true, encoding: .utf8)
        return Request(csrFile: csrFile, renewal: renewal)
    }

    /// Signs a node's request with the CA in `caDir`, after checking it names `node` (and that
    /// `node` is in `topologyFile`, whose name for it goes into the certificate), and writes only
    /// the certificate to `out`; the CA folder keeps a copy under `issued/` for revocation.
    /// - Returns: the certificate's SHA-256 fingerprint (hex).
    /// - Throws: `NodeError.configuration` (unreadable CA, request or topology; a request for another node).
    @discardableResult
    public static func sign(
        caDir: String, csrFile: String, node: String, topologyFile: String?, out: String, days: Int = 825, now: Date = Date()
    ) throws -> String {
        let ca = try loadCA(caDir)
        var name = ""
        if let topologyFile {
            guard let n = try topology(topologyFile).node(node) else { throw NodeError.config("node \(node) is not in \(topologyFile)") }
            name = n.name
        }
        let pem: String
        do {
            pem = try FederationCA.sign(
                csrPEM: NodeHome.read(csrFile, what: "certificate signing request"), nodeID: node, nodeName: name, ca: ca, now: now, days: days)
        } catch let e as PeerError { throw NodeError.config("\(csrFile): \(e.message)") }
        try pem.write(toFile: out, atomically: true, encoding: .utf8)
        return try record(issued: pem, caDir: caDir)
    }

    /// What `install` did.
    public struct Installed: Sendable {
        /// The installed certificate's SHA-256 fingerprint (hex).
        public var fingerprint: String
        /// True if it replaced a certificate (kept in `certs/retired/`): restart the node to switch.
        public var renewal: Bool
    }

    /// Installs a certificate the CA signed for this node's request: it must chain to the home's
    /// CA (or `caCertFile`, copied into a home that has none), name this node, be valid now, and
    /// certify the key the request was made with (`certs/next.key` for a renewal, else
    /// `certs/node.key`). A renewal retires the old certificate to `certs/retired/` and deletes
    /// the old key; the node switches when it restarts and then publishes its key history.
    /// - Throws: `NodeError.configuration` for any mismatch.
    @discardableResult
    public static func install(home: NodeHome, certFile: String, caCertFile: String? = nil, now: Date = Date()) throws -> Installed {
        let fm = FileManager.default
        let config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        if let caCertFile {
            let given = try NodeHome.read(caCertFile, what: "CA certificate")
            if let existing = try? NodeHome.read(home.caFile, what: "CA certificate"), existing != given {
                throw NodeError.config("\(caCertFile) is not the CA certificate this home already trusts (\(home.caFile))")
            }
            try given.write(toFile: home.caFile, atomically: true, encoding: .utf8)
        }
        let caPEM = try NodeHome.read(home.caFile, what: "CA certificate (pass --ca-cert)")
        let pem = try NodeHome.read(certFile, what: "certificate")
        guard let der = NodeIdentity.der(pem: pem) else { throw NodeError.config("\(certFile) is not a PEM certificate") }
        let verifier: NodeCertificateVerifier
        do { verifier = try NodeCertificateVerifier(caCertificatePEM: caPEM) } catch { throw NodeError.config("\(home.caFile) is not a certificate") }
        guard case .trusted(let info) = verifier.inspect(certificateDER: der) else {
            throw NodeError.config("\(certFile) was not issued by the federation CA in \(home.caFile)")
        }
        guard info.nodeID == config.nodeID else { throw NodeError.config("\(certFile) is for node \(info.nodeID), not \(config.nodeID)") }
        if let why = info.validity(at: now) { throw NodeError.config("\(certFile): \(why)") }
        let renewal = fm.fileExists(atPath: home.certFile)
        let keyFile = renewal ? home.nextKeyFile : home.keyFile
        guard let keyPEM = try? NodeHome.read(keyFile, what: "key"), let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM) else {
            throw NodeError.config("no pending key at \(keyFile): run `tong ca request --home \(home.path)` first")
        }
        guard Array(key.publicKey.derRepresentation) == info.publicKeyDER else {
            throw NodeError.config("\(certFile) certifies another key than \(keyFile) (a certificate for another request?)")
        }
        if renewal {
            let old = try NodeHome.read(home.certFile, what: "certificate")
            if let oldDER = NodeIdentity.der(pem: old) {
                try fm.createDirectory(atPath: home.retiredDir, withIntermediateDirectories: true)
                let fp = NodeIdentity.fingerprint(der: oldDER)
                try old.write(toFile: home.retiredDir + "/\(fp).pem", atomically: true, encoding: .utf8)
            }
            try NodeHome.writeSecret(keyPEM, to: home.keyFile)
            try? fm.removeItem(atPath: home.nextKeyFile)
            try? fm.removeItem(atPath: home.nextRequestFile)
        } else {
            try? fm.removeItem(atPath: home.requestFile)
        }
        try pem.write(toFile: home.certFile, atomically: true, encoding: .utf8)
        return Installed(fingerprint: info.fingerprint, renewal: renewal)
    }

    /// Renews a node's certificate where one operator holds both the home and the CA: a new key
    /// in the home, a request, the CA's signature, installed. Restart the node to switch.
    /// - Throws: `NodeError.configuration` if the home has no certificate yet, or as the steps do.
    @discardableResult
    public static func renew(home: NodeHome, caDir: String, days: Int = 825, now: Date = Date()) throws -> Installed {
        guard FileManager.default.fileExists(atPath: home.certFile) else {
            throw NodeError.config("\(home.path) has no certificate to renew; use `tong ca request` and `tong ca sign`")
        }
        let config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        let req = try request(home: home)
        let certFile = home.path + "/certs/next.pem"
        try sign(caDir: caDir, csrFile: req.csrFile, node: config.nodeID, topologyFile: home.topologyFile, out: certFile, days: days, now: now)
        defer { try? FileManager.default.removeItem(atPath: certFile) }
        return try install(home: home, certFile: certFile, now: now)
    }

    /// Revokes, in the CA's list, the certificates issued to `node` (all of those under
    /// `issued/`, or only the one with `serial`, or the certificate in `certFile`) from `at` on,
    /// and writes the CA's new list (every earlier entry kept) to `caDir/revocations.json` and `out`.
    /// With `lastCounter`, nothing the certificates signed verifies with a counter above it,
    /// whatever the set's signing time (a leaked key back-dating new sets): the node's highest
    /// counter its parent holds from before the leak (`tong trust --home PARENT`).
    /// - Returns: the signed list.
    /// - Throws: `NodeError.configuration` (unreadable CA, no such certificate, another node's certificate).
    @discardableResult
    public static func revoke(
        caDir: String, node: String, serial: String? = nil, certFile: String? = nil, at: Date, reason: String = "", lastCounter: UInt64? = nil,
        out: String? = nil, now: Date = Date()
    ) throws -> SignedRevocationList {
        let ca = try loadCA(caDir)
        let verifier = try NodeCertificateVerifier(caCertificatePEM: ca.certificatePEM)
        var candidates: [NodeCertificate] = []
        var files: [String] = []
        if let certFile {
            files = [certFile]
        } else {
            let dir = caDir + "/issued"
            files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".pem") }.sorted().map {
                dir + "/" + $0
            }
        }
        for f in files {
            guard let pem = try? NodeHome.read(f, what: "certificate"), let der = NodeIdentity.der(pem: pem),
                case .trusted(let info) = verifier.inspect(certificateDER: der)
            else {
                if certFile != nil { throw NodeError.config("\(f) is not a certificate issued by the CA in \(caDir)") }
                continue
            }
            if certFile != nil, info.nodeID != node { throw NodeError.config("\(f) is a certificate of node \(info.nodeID), not \(node)") }
            if info.nodeID == node, serial.map({ $0.lowercased() == info.serial }) ?? true { candidates.append(info) }
        }
        guard !candidates.isEmpty else {
            throw NodeError.config("no certificate of node \(node)\(serial.map { " with serial \($0)" } ?? "") in \(caDir)/issued; pass --cert FILE")
        }
        let listFile = caDir + "/revocations.json"
        var previous: SignedRevocationList?
        if FileManager.default.fileExists(atPath: listFile) {
            guard let v = try? JSONParser.parse(Array(NodeHome.read(listFile, what: "revocation list").utf8)),
                let l = SignedRevocationList(wire: v)
            else { throw NodeError.config("\(listFile) is not a revocation list") }
            previous = l
        }
        let atMs = TongNode.ms(at)
        let entries = candidates.map {
            RevocationList.Entry(
                node: node, serial: $0.serial, fingerprint: $0.fingerprint, revokedAt: atMs, reason: reason, lastCounter: lastCounter)
        }
        let list: SignedRevocationList
        do { list = try FederationCA.revocations(previous: previous, adding: entries, ca: ca, now: now) } catch let e as PeerError {
            throw NodeError.config(e.message)
        }
        let text = String(decoding: CanonicalJSON.encode(list.wireJSON), as: UTF8.self) + "\n"
        try text.write(toFile: listFile, atomically: true, encoding: .utf8)
        if let out, out != listFile { try text.write(toFile: out, atomically: true, encoding: .utf8) }
        return list
    }

    /// Installs a CA-signed revocation list at a stopped node (a running node takes it at
    /// `POST /api/v1/revocations`): it goes into the node's directory record and so to every node.
    /// - Returns: the number of revocations in force.
    /// - Throws: `NodeError` as `TongNode.installRevocations` does.
    public static func publishRevocations(home: NodeHome, file: String) throws -> Int {
        let v: JSONValue
        do { v = try JSONParser.parse(Array(NodeHome.read(file, what: "revocation list").utf8)) } catch let e as NodeError { throw e } catch {
            throw NodeError.badRequest("\(file) is not JSON: \(error)")
        }
        // A running node would not see the list until it restarts: refuse it, naming its addresses.
        let lock = try HomeLock.acquire(databaseFile: home.databaseFile, holder: "pid \(getpid()), tong ca publish-revocations")
        defer { lock.release() }
        let node = try TongNode.open(home: home, logger: Logger(label: "tong"), lockHeld: true)
        defer { try? node.db.close() }
        try node.publishDirectory()
        return try node.installRevocations(v, by: .admin)
    }

    /// Keeps a copy of a certificate the CA signed in `caDir/issued/<node>-<serial>.pem`.
    /// - Returns: its SHA-256 fingerprint (hex).
    @discardableResult
    static func record(issued pem: String, caDir: String) throws -> String {
        let verifier = try NodeCertificateVerifier(caCertificatePEM: NodeHome.read(caDir + "/ca.pem", what: "CA certificate"))
        guard let der = NodeIdentity.der(pem: pem), case .trusted(let info) = verifier.inspect(certificateDER: der) else {
            throw NodeError(.internal, "the CA in \(caDir) did not issue the certificate it just signed")
        }
        try FileManager.default.createDirectory(atPath: caDir + "/issued", withIntermediateDirectories: true)
        try pem.write(toFile: caDir + "/issued/\(info.nodeID)-\(info.serial).pem", atomically: true, encoding: .utf8)
        return info.fingerprint
    }

    static func loadCA(_ dir: String) throws -> IssuedCredential {
        IssuedCredential(
            certificatePEM: try NodeHome.read(dir + "/ca.pem", what: "CA certificate"),
            privateKeyPEM: try NodeHome.read(dir + "/ca.key", what: "CA key"))
    }

    static func topology(_ file: String) throws -> Topology {
        do { return try Topology.parse(toml: NodeHome.read(file, what: "topology")) } catch let e as NodeError { throw e } catch {
            throw NodeError.config("topology \(file): \(error)")
        }
    }
}
