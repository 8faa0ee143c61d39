import Crypto
import Foundation
import Logging
import Synchronization
import TongCore
import TongPeer
import TongStore

/// One running node's domain: its replica, identity, directory and the operations the API,
/// the portal and the sync service perform. Routes only translate HTTP to these calls.
public final class TongNode: Sendable {
    /// Settings.
    public let config: NodeConfiguration
    /// The federation tree.
    public let topology: Topology
    /// The replica.
    public let db: TongDatabase
    /// Signs our change sets.
    package let signer: ChangeSigner
    /// Verifies received sets.
    package let verifier: ChangeSetVerifier
    /// Revocations and retired keys known from the directory (see `refreshTrust`).
    package let trust = TrustRegistry()
    /// This node's own certificate, as the CA issued it.
    package let certificate: NodeCertificate
    /// Checks neighbours' certificates during TLS handshakes (revocations included).
    package let peerPolicy: PeerCertificatePolicy
    /// mTLS credentials.
    package let credentials: PeerCredentials
    /// API tokens.
    package let auth: TokenAuth
    /// Private sealing keys: of this node (for replies) and of each of its departments.
    private let nodeSealKeyRaw: Data
    private let departmentSealKeysRaw: [String: Data]
    // swift-crypto's key types are not Sendable on Linux: keep raw bytes, rebuild on use.
    package var nodeSealKey: P256.KeyAgreement.PrivateKey { try! P256.KeyAgreement.PrivateKey(rawRepresentation: nodeSealKeyRaw) }
    /// The sealing key of one of this node's departments (nil for any other department).
    package func departmentSealKey(_ dept: String) -> P256.KeyAgreement.PrivateKey? {
        departmentSealKeysRaw[dept].map { try! P256.KeyAgreement.PrivateKey(rawRepresentation: $0) }
    }
    /// Metrics.
    public let metrics: NodeMetrics
    package let notifier = ChangeNotifier()
    package let logger: Logger
    package let link = LinkTable()
    /// Storage health (integrity checks), for `/healthz`.
    public let health = NodeHealth()
    /// Evaluation ratings already opened, per department (see `publishSupervision`).
    package let ratingTallies = Mutex<[String: RatingTally]>([:])
    /// Survey tallies so far, per survey (see `surveyTallies`): responses never change once
    /// sealed, so each is opened once and a view reads only newer ones.
    package let surveyTallyCache = Mutex<[String: SurveyTally]>([:])

    /// This node's id.
    public var id: String { config.nodeID }

    /// Opens a node from its home folder; one clear error if anything is missing or wrong.
    public static func open(
        home: NodeHome, logger: Logger, lockHeld: Bool = false, configure: (inout NodeConfiguration) -> Void = { _ in }
    ) throws -> TongNode {
        // Nothing under data/ is touched while another process runs on this home (opening may
        // rebuild the full-text index file, which would pull it from under a running node).
        if !lockHeld { try HomeLock.ensureStopped(home) }
        var config = try NodeConfiguration.parse(toml: NodeHome.read(home.configFile, what: "node.toml"))
        configure(&config)
        let topology: Topology
        do { topology = try Topology.parse(toml: NodeHome.read(home.topologyFile, what: "topology.toml")) } catch let e as TopologyError {
            throw NodeError.config("topology.toml: \(e)")
        }
        guard topology.node(config.nodeID) != nil else { throw NodeError.config("node \(config.nodeID) is not in topology.toml") }
        let creds: PeerCredentials
        do { creds = try PeerCredentials.load(home: home.path) } catch { throw NodeError.config("certificates in \(home.path)/certs: \(error)") }
        var auth = TokenAuth()
        let admin = try NodeHome.read(home.adminTokenFile, what: "admin token").trimmingCharacters(in: .whitespacesAndNewlines)
        guard admin.count >= 16 else { throw NodeError.config("admin.token is too short") }
        auth.add(token: admin, for: .admin)
        var deptKeys: [String: P256.KeyAgreement.PrivateKey] = [:]
        for d in topology.node(config.nodeID)?.departments ?? [] {
            if let t = try? NodeHome.read(home.tokensDir + "/\(d.id).token", what: "token").trimmingCharacters(in: .whitespacesAndNewlines),
                t.count >= 16
            {
                auth.add(token: t, for: .department(d.id))
            }
            deptKeys[d.id] = try loadOrMakeSealKey(home.sealKeysDir + "/\(d.id).pem")
        }
        // The node's sealing key is made at its first start: if it exists, this node ran before,
        // and a replica created now means the old one was lost (kv679): start held.
        let ranBefore = FileManager.default.fileExists(atPath: home.sealKeysDir + "/node.pem")
        let nodeKey = try loadOrMakeSealKey(home.sealKeysDir + "/node.pem")
        for file in exposedSecrets(home) {
            logger.warning(
                "secret file is readable by group or others; chmod 600 it",
                metadata: ["file": .string(file.path), "file.mode": .string(String(file.mode, radix: 8))])
        }
        // data/ holds the replica (enterprise contacts, sealed items): the service user's only.
        try FileManager.default.createDirectory(atPath: home.path + "/data", withIntermediateDirectories: true)
        _ = chmod(home.path + "/data", 0o700)
        let db: TongDatabase
        do { db = try TongDatabase(path: home.databaseFile, nodeID: config.nodeID, now: Self.now(), holdIfNew: ranBefore) } catch let e as StoreError
        {
            throw NodeError.config(e.message)
        }
        if let r = db.searchIndexRebuild {
            // Derived data rebuilt from the replica (SearchIndexFile): worth a line when it held anything.
            logger.log(level: r.records > 0 ? .notice : .info, "full-text index rebuilt", metadata: [
                "records": .stringConvertible(r.records), "reason": .string(r.reason),
                "reclaimed_bytes": .stringConvertible(r.reclaimedBytes),
            ])
        }
        db.onSearchIndexRebuild { [logger] r in
            logger.warning("full-text index rebuilt while running", metadata: [
                "records": .stringConvertible(r.records), "reason": .string(r.reason),
                "reclaimed_bytes": .stringConvertible(r.reclaimedBytes),
            ])
        }
        return try TongNode(
            config: config, topology: topology, db: db, credentials: creds, auth: auth,
            nodeSealKey: nodeKey, departmentSealKeys: deptKeys, logger: logger)
    }

    /// Secret files of `home` (certs/node.key, admin.token, tokens/*, keys/*) that group or
    /// others may read or write, with their permission bits.
    package static func exposedSecrets(_ home: NodeHome) -> [(path: String, mode: Int)] {
        let fm = FileManager.default
        var files = [home.keyFile, home.adminTokenFile]
        for dir in [home.tokensDir, home.sealKeysDir] {
            for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() { files.append(dir + "/" + name) }
        }
        return files.compactMap { f in
            guard let mode = (try? fm.attributesOfItem(atPath: f))?[.posixPermissions] as? NSNumber, mode.intValue & 0o077 != 0 else { return nil }
            return (f, mode.intValue & 0o777)
        }
    }

    package static func loadOrMakeSealKey(_ file: String) throws -> P256.KeyAgreement.PrivateKey {
        if let pem = try? NodeHome.read(file, what: "sealing key") {
            do { return try P256.KeyAgreement.PrivateKey(pemRepresentation: pem) } catch {
                throw NodeError.config("sealing key \(file) is not a P-256 private key")
            }
        }
        let k = P256.KeyAgreement.PrivateKey()
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try NodeHome.writeSecret(k.pemRepresentation, to: file)
        return k
    }

    package init(
        config: NodeConfiguration, topology: Topology, db: TongDatabase, credentials: PeerCredentials, auth: TokenAuth,
        nodeSealKey: P256.KeyAgreement.PrivateKey, departmentSealKeys: [String: P256.KeyAgreement.PrivateKey], logger: Logger
    ) throws {
        self.config = config; self.topology = topology; self.db = db; self.credentials = credentials; self.auth = auth
        self.nodeSealKeyRaw = nodeSealKey.rawRepresentation; self.departmentSealKeysRaw = departmentSealKeys.mapValues { $0.rawRepresentation }
        var l = logger
        l[metadataKey: "node.id"] = .string(config.nodeID)
        self.logger = l
        self.metrics = NodeMetrics()
        verifier = try ChangeSetVerifier(caCertificatePEM: credentials.caPEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: credentials.privateKeyPEM)
        let der = credentials.certificateDER
        signer = ChangeSigner(nodeID: config.nodeID, key: key, certificateDER: der)
        guard case .trusted(let own) = NodeCertificateVerifier(caCertificate: verifier.caCertificate).inspect(certificateDER: der) else {
            throw NodeError.config("certs/node.pem is not a node certificate issued by certs/ca.pem")
        }
        guard own.nodeID == config.nodeID else { throw NodeError.config("certs/node.pem is for node \(own.nodeID), not \(config.nodeID)") }
        certificate = own
        let log = l
        // Once a minute per reason: a revoked neighbour retries its handshake many times a second.
        let throttle = LogThrottle()
        peerPolicy = try PeerCertificatePolicy(caPEM: credentials.caPEM, trust: trust) { why in
            // Keyed by what the CA vouches for (a revoked certificate's node and serial), never by
            // text the caller chose (a self-signed certificate's issuer): all those share one key.
            let key = why.hasPrefix("certificate of ") && why.contains(" was revoked at ") ? why : "untrusted certificate"
            guard let suppressed = throttle.admit(key, now: Self.now()) else { return }
            var metadata: Logger.Metadata = ["reason": .string(why)]
            if suppressed > 0 { metadata["suppressed"] = .stringConvertible(suppressed) }
            log.warning("refused a peer certificate at the TLS handshake", metadata: metadata)
        }
        try refreshTrust()
    }

    /// Wall clock in milliseconds: read here, at the edge, and passed into the core as a value.
    package static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A fixed time (ms since 1970, UTC) that tests set to see a page at a chosen moment (07:30
    /// Beijing, say); nil reads the wall clock. It moves what people read (today's date for
    /// validity and due dates, feedback times), never the signing time of change sets.
    package let clockOverride = Mutex<Int64?>(nil)
    /// Searchable rows per postings segment (`PostingsSegment.rows`; tests lower it).
    package let postingsSegmentRows = Atomic<Int>(PostingsSegment.rows)

    /// What time it is for people (ms since 1970, UTC): the wall clock unless a test fixed it.
    public func wallClock() -> Int64 { clockOverride.withLock { $0 } ?? Self.now() }

    /// Today's date in Beijing (`YYYY-MM-DD`): the day policy validity and due dates refer to.
    public func today() -> String { SimpleDate(beijingMillis: wallClock()).map(\.description) ?? "1970-01-01" }

    /// A policy's validity today (现行有效, 尚未生效, 已失效, 已废止).
    public func validity(_ values: [String: JSONValue], today: String? = nil) -> PolicyValidity.State {
        PolicyValidity(from: values["effective_from"]?.stringValue ?? "", to: values["effective_to"]?.stringValue ?? "")
            .state(today: today ?? self.today(), withdrawn: values["status"]?.stringValue == "withdrawn")
    }

    /// Publishes this node and its departments (with their sealing keys) and its key history
    /// (`keys`: a certificate it switched away from is closed at the last counter it signed) to
    /// the directory, writing only what changed since the last start; signed at `now` (ms; default the wall clock).
    /// - Throws: `NodeError` (`configuration` if the certificate was retired before, `unavailable`
    ///   while writes are held or this node's certificate cannot sign).
    public func publishDirectory(now: Int64? = nil) throws {
        guard let me = topology.node(id) else { return }
        var writes: [LocalWrite] = []
        let keys = try keyHistory()
        let nodeFields: [String: JSONValue] = [
            "name": .string(me.name), "parent": me.parent.map(JSONValue.string) ?? .null,
            "seal_key": .string(Sealing.publicKeyBase64(nodeSealKey)), "status": "active",
            "keys": .array(keys.map(\.json)),
        ]
        let keyEvent = (try db.record(id))?.state["keys"] != nodeFields["keys"]
        if let w = diff(id: id, kind: .node, wanted: nodeFields) { writes.append(w) }
        for d in me.departments {
            guard let k = departmentSealKey(d.id) else { continue }
            let f: [String: JSONValue] = ["name": .string(d.name), "seal_key": .string(Sealing.publicKeyBase64(k)), "status": "active"]
            if let w = diff(id: d.id, kind: .department, wanted: f) { writes.append(w) }
        }
        if !writes.isEmpty { try write(writes, now: now ?? Self.now()) }
        if keyEvent {
            // A key event (first key, or a switch to a renewed certificate) goes on the audit trail.
            try db.audit(
                event: "key.history", subject: id,
                detail: "signing certificate \(certificate.fingerprint.prefix(16))…; "
                    + "\(keys.count) certificate(s) in the published key history", now: now ?? Self.now())
        }
        try refreshTrust()
    }

    /// `publishDirectory`, except that a node that may not write now (held, or its certificate
    /// expired or revoked) logs why and still starts: it serves what it holds and can be renewed.
    /// - Throws: `NodeError` other than `unavailable`.
    public func publishDirectoryWhenPossible() throws {
        do { try publishDirectory() } catch let e as NodeError where e.code == .unavailable {
            logger.notice("directory record held until the node caught up", metadata: ["reason": .string(e.message)])
        }
    }

    private func diff(id: String, kind: RecordKind, wanted: [String: JSONValue]) -> LocalWrite? {
        let current = (try? db.record(id))??.state.values ?? [:]
        let changed = wanted.filter { current[$0.key] != $0.value }
        guard !changed.isEmpty else { return nil }
        return LocalWrite(id: id, kind: kind, owner: self.id, scope: .directory, fields: changed, mustExist: false)
    }

    /// Writes locally, then wakes the sync links. Store errors become `NodeError`s by meaning
    /// (a full disk is `.storageFull`; a corrupt file is `.unavailable` and marks `health`).
    /// - Throws: `NodeError` (`unavailable` also when this node's certificate expired or was revoked:
    ///   nobody would accept what it signs).
    @discardableResult
    package func write(_ writes: [LocalWrite], now: Int64 = TongNode.now()) throws -> [RecordState] {
        if let why = signingRefusal(now: now) { throw NodeError(.unavailable, why) }
        do {
            let r = try db.write(writes, signer: signer, topology: topology, now: now)
            notifier.notify()
            return r
        } catch let e as StoreError {
            if e.code == .corrupt { health.corrupt(e.message) }
            throw NodeError(e)
        }
    }

    /// Every department in the federation, from the directory.
    public func departments() throws -> [StoredRecord] { try db.records(kind: .department) }

    /// A department's directory entry, if it exists and was not withdrawn.
    package func department(_ id: String) -> StoredRecord? {
        guard let r = (try? db.record(id)) ?? nil, r.state.kind == .department, r.state["status"]?.stringValue != "withdrawn" else { return nil }
        return r
    }
}

extension TongNode {
    /// Retires one of this node's departments: its directory entry becomes withdrawn everywhere,
    /// and feedback still travelling to it comes back as undeliverable.
    public func retireDepartment(_ dept: String, by who: Principal) throws {
        try who.requireAdmin("admin only")
        guard Validation.departmentID(dept)?.node == id else { throw NodeError.forbidden("department \(dept) belongs to another node") }
        guard department(dept) != nil else { throw NodeError.notFound("no active department \(dept)") }
        try write([LocalWrite(id: dept, kind: .department, owner: id, scope: .directory, fields: ["status": "withdrawn"])])
    }
}
