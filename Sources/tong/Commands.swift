import ArgumentParser
import Foundation
import Logging
import TongDomain
import TongServer
import TongTools

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run a node until SIGINT or SIGTERM.")
    @Option(help: "The node home folder (node.toml, certs/, data/, tokens).") var home: String
    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).") var logLevel: String = "info"
    @Option(help: "Log format: text (key=value) or json (one object per line: time, level, message, dotted metadata keys).")
    var logFormat: String = "text"
    /// For harnesses (tests, `tong bench`): exit when standard input reaches end of file. The harness
    /// passes a pipe it keeps open, so the node goes when the harness does, however it ends.
    @Flag(help: .hidden) var exitWithParent = false

    func run() async throws {
        // Checked here rather than by ArgumentParser, so a wrong value is one line, not a usage page.
        guard let format = LogFormat(rawValue: logFormat) else {
            fail(NodeError.config("unknown --log-format \(logFormat); use text or json"))
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            let message = "unknown --log-level \(logLevel); use one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
            if format == .json {
                bootstrapLogging(level: .critical, format: .json)
                Logger(label: "tong").critical("\(message)")
                Foundation.exit(1)
            }
            fail(NodeError.config(message))
        }
        bootstrapLogging(level: level, format: format)
        do {
            let node = try TongNode.open(home: NodeHome(path: home), logger: Logger(label: "tong"))
            let server = NodeServer(node: node)
            if exitWithParent {
                // Test harnesses start nodes as child processes: a crashed harness must not leave
                // them running and syncing to ports a later run reuses. The kernel closes the
                // harness's end of the stdin pipe when it dies; a thread blocked in read(2) costs
                // nothing until then (polling getppid woke an idle node three times a second).
                Thread {
                    var byte: UInt8 = 0
                    while true {
                        let n = read(0, &byte, 1)
                        if n == 0 || (n < 0 && errno != EINTR) { break }
                    }
                    Task { await server.shutdown() }
                }.start()
            }
            try await server.run()
        } catch {
            // With --log-format json, even the line that says why the node could not start is a
            // JSON object, so `journalctl -o cat | jq .` reads the whole log.
            if format == .json {
                Logger(label: "tong").critical("\((error as? NodeError)?.message ?? "\(error)")")
                Foundation.exit(1)
            }
            fail(error)
        }
    }
}

struct FederationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "federation", abstract: "Federation set-up.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Make a CA and a complete node home for every node of a topology.")
        @Option(help: "Topology file (TOML).") var topology: String
        @Option(help: "Output folder: DIR/ca/ and DIR/<node id>/.") var out: String
        @Flag(help: "Overwrite an existing output folder.") var force = false

        func run() async throws {
            do {
                let text = try String(contentsOfFile: topology, encoding: .utf8)
                let t = try FederationLayout.create(topologyText: text, out: out, force: force)
                print("federation \(t.federation): CA in \(out)/ca, \(t.nodes.count) node homes in \(out)/<node id>")
            } catch { fail(error) }
        }
    }
}

struct CA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Certificates one step at a time; private keys never leave where they were made (certs/README.md).",
        subcommands: [
            Init.self, Request.self, Sign.self, Install.self, Renew.self, Revoke.self, PublishRevocations.self, Trust.self,
        ])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a federation CA in DIR (ca.pem, ca.key 0600, issued/).")
        @Option(help: "Federation name.") var federation: String
        @Option(help: "Output folder.") var out: String
        func run() async throws {
            do { try CertificateCommands.initCA(federation: federation, out: out); print("CA written to \(out)/ca.pem and \(out)/ca.key") } catch {
                fail(error)
            }
        }
    }

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the node's private key in its home (0600) and a certificate signing request for the CA operator.")
        @Option(help: "Node home (laid out from --node and --topology if it does not exist yet).") var home: String
        @Option(help: "Node id (for a new home).") var node: String?
        @Option(help: "Topology file (for a new home).") var topology: String?
        func run() async throws {
            do {
                let r = try CertificateCommands.request(home: NodeHome(path: home), node: node, topologyFile: topology)
                print("\(r.renewal ? "renewal request" : "request") written to \(r.csrFile); hand it to the CA operator (the key stays here)")
            } catch { fail(error) }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a node's certificate signing request; writes only the certificate.")
        @Option(help: "CA folder (ca.pem, ca.key).") var ca: String
        @Option(help: "The node's request (PEM).") var csr: String
        @Option(help: "The node id the request must name.") var node: String
        @Option(help: "Topology file: the node must be in it; its name goes into the certificate.") var topology: String?
        @Option(help: "Certificate file to write.") var out: String
        @Option(help: "Validity in days.") var days: Int = 825
        func run() async throws {
            do {
                let fp = try CertificateCommands.sign(caDir: ca, csrFile: csr, node: node, topologyFile: topology, out: out, days: days)
                print("certificate for \(node) written to \(out) (sha256 \(fp))")
            } catch { fail(error) }
        }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the certificate the CA signed for this home's request (restart a running node to switch).")
        @Option(help: "Node home.") var home: String
        @Option(help: "Certificate file from the CA operator.") var cert: String
        @Option(help: "The federation CA certificate, for a home that has none yet.") var caCert: String?
        func run() async throws {
            do {
                let r = try CertificateCommands.install(home: NodeHome(path: home), certFile: cert, caCertFile: caCert)
                print("certificate \(r.fingerprint.prefix(16))… installed in \(home)\(r.renewal ? "; restart the node to switch keys" : "")")
            } catch { fail(error) }
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Request, sign and install a new key and certificate at once, for an operator who holds the home and the CA.")
        @Option(help: "Node home.") var home: String
        @Option(help: "CA folder (ca.pem, ca.key).") var ca: String
        @Option(help: "Validity in days.") var days: Int = 825
        func run() async throws {
            do {
                let r = try CertificateCommands.renew(home: NodeHome(path: home), caDir: ca, days: days)
                print("renewed: certificate \(r.fingerprint.prefix(16))… installed in \(home); restart the node to switch keys")
            } catch { fail(error) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a node's certificates in the CA's signed revocation list (DIR/revocations.json, and --out).")
        @Option(help: "CA folder.") var ca: String
        @Option(help: "Node id.") var node: String
        @Option(help: "Only the certificate with this serial (hex); default: every certificate issued to the node.") var serial: String?
        @Option(help: "Only this certificate file.") var cert: String?
        @Option(help: "Revoked from this time on (ISO 8601, e.g. 2026-01-01T08:00:00+08:00, or ms since 1970); default now.") var at: String?
        @Option(help: "Why, in a few words.") var reason: String = ""
        @Option(
            name: .customLong("last-counter"),
            help: "The node's highest counter to keep trusting from these certificates: above it nothing they signed verifies, however it is dated.")
        var lastCounter: UInt64?
        @Option(help: "Also write the list to this file.") var out: String?
        func run() async throws {
            do {
                let when = try at.map(parseTime) ?? Date()
                let l = try CertificateCommands.revoke(
                    caDir: ca, node: node, serial: serial, certFile: cert, at: when, reason: reason, lastCounter: lastCounter, out: out)
                print("revocation list with \(l.list.entries.count) entries written to \(out ?? ca + "/revocations.json")")
                // A revocation only ever tightens: say so when the list already held a tighter one.
                let atMs = Int64(when.timeIntervalSince1970 * 1000)
                for e in l.list.entries where e.node == node && (serial.map { $0.lowercased() == e.serial } ?? true) {
                    if e.revokedAt < atMs { print("note: \(e.serial) stays revoked from \(e.revokedAt) ms, the earlier time already listed") }
                    if let asked = lastCounter, let kept = e.lastCounter, kept < asked {
                        print("note: \(e.serial) keeps the lower bound \(kept) already listed, not \(asked)")
                    }
                }
            } catch { fail(error) }
        }

        func parseTime(_ s: String) throws -> Date {
            if let ms = Int64(s) { return Date(timeIntervalSince1970: Double(ms) / 1000) }
            let f = ISO8601DateFormatter()
            if let d = f.date(from: s) { return d }
            throw NodeError.invalid("--at \(s) is neither ISO 8601 nor milliseconds since 1970")
        }
    }

    struct Trust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a running node's revoked certificates in force, its key history and its links.")
        @Option(help: "Node home (node.toml and admin.token are read; the node must be running).") var home: String
        @Flag(help: "Print the sync status JSON as the API returns it.") var json = false
        func run() async throws {
            do {
                let st = try await TrustReport.fetch(home: NodeHome(path: home))
                print(json ? TrustReport.json(st) : TrustReport.render(st))
            } catch { fail(error) }
        }
    }

    struct PublishRevocations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "publish-revocations",
            abstract: "Install a CA-signed revocation list at a stopped node; it spreads to every node (running: POST /api/v1/revocations).")
        @Option(help: "Node home (the node must not be running).") var home: String
        @Option(help: "The revocation list `tong ca revoke` wrote.") var file: String
        func run() async throws {
            do {
                let n = try CertificateCommands.publishRevocations(home: NodeHome(path: home), file: file)
                print("revocation list installed at \(home): \(n) revoked certificate(s) in force")
            } catch { fail(error) }
        }
    }
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Policy bulk operations.", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import policies from a JSON-lines file into a node (the node must not be running).")
        @Option(help: "Node home.") var home: String
        @Argument(help: "JSON lines, one policy object per line.") var file: String
        func run() async throws {
            do {
                let h = NodeHome(path: home)
                // Held while importing: a running node would not see the imported policies in its
                // search (its in-memory catalog), so the import refuses it, naming its addresses.
                let lock = try HomeLock.acquire(databaseFile: h.databaseFile, holder: "pid \(getpid()), tong policy import")
                defer { lock.release() }
                let node = try TongNode.open(home: h, logger: Logger(label: "tong"), lockHeld: true)
                try node.publishDirectory()
                guard let data = FileManager.default.contents(atPath: file) else { throw NodeError.config("cannot read \(file)") }
                let r = try node.importPolicies(jsonLines: Array(data))
                for e in r.errors.prefix(100) { FileHandle.standardError.write(Data("tong: \(file): \(e)\n".utf8)) }
                if r.errors.count > 100 { FileHandle.standardError.write(Data("tong: … and \(r.errors.count - 100) more\n".utf8)) }
                print("imported \(r.imported) policies, \(r.errors.count) rejected")
                if !r.errors.isEmpty { throw ExitCode(2) }
            } catch let e as ExitCode { throw e } catch { fail(error) }
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a node's replica with SQLite's online backup (safe while it runs); with --include-keys, a bundle with keys/ encrypted.")
    @Option(help: "Node home.") var home: String
    @Option(help: "Backup file to write.") var out: String
    @Flag(help: "Also store keys/ (the sealing keys), encrypted with the passphrase: without them sealed items are unreadable.")
    var includeKeys = false
    @Option(help: "File whose first line is the passphrase (at least 8 characters); required with --include-keys.")
    var passphraseFile: String?
    func run() async throws {
        do {
            if includeKeys && passphraseFile == nil { throw NodeError.config("--include-keys needs --passphrase-file") }
            if !includeKeys && passphraseFile != nil { throw NodeError.config("--passphrase-file is only used with --include-keys") }
            let passphrase = try passphraseFile.map(BackupBundle.passphrase(file:))
            try NodeMaintenance.backup(home: NodeHome(path: home), to: out, passphrase: passphrase)
            print(passphrase == nil ? "backup written to \(out)" : "backup bundle (replica and encrypted keys/) written to \(out)")
        } catch { fail(error) }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a node's replica (and keys/ from a bundle) from a backup; it catches up from its peers before writing again.")
    @Option(help: "Node home (the node must be stopped).") var home: String
    @Option(help: "Backup file or bundle.") var from: String
    @Option(help: "File whose first line is the bundle's passphrase (needed when the bundle holds keys/).") var passphraseFile: String?
    func run() async throws {
        do {
            let passphrase = try passphraseFile.map(BackupBundle.passphrase(file:))
            try NodeMaintenance.restore(home: NodeHome(path: home), from: from, passphrase: passphrase)
            print("restored \(home) from \(from); writes resume after it caught up from its peers")
        } catch { fail(error) }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run peers/demo.toml's federation on loopback with sample data and show what travelled where.")
    @Option(help: "Topology file.") var topology: String = "peers/demo.toml"
    @Flag(help: "Exit once the flows converged.") var once = false
    @Flag(help: "Use free loopback ports instead of the file's.") var freePorts = false
    func run() async throws {
        bootstrapLogging(level: .warning)
        do {
            guard let data = FileManager.default.contents(atPath: topology), let text = String(data: data, encoding: .utf8) else {
                let path = URL(fileURLWithPath: topology).standardizedFileURL.path
                throw NodeError.config("topology file \(path) not found: run `tong demo` in the repository root or pass --topology FILE")
            }
            try await DemoRunner.run(topologyText: text, once: once, freePorts: freePorts) { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        } catch { fail(error) }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a node's replica: the audit trail's hash chain, every set's signature, and that replaying the change log "
            + "gives the stored records.")
    @Option(help: "Node home.") var home: String
    func run() async throws {
        let report: VerificationReport
        do {
            var logger = Logger(label: "tong")
            logger.logLevel = .error
            let node = try TongNode.open(home: NodeHome(path: home), logger: logger)
            report = try node.verifyReplica()
        } catch { fail(error) }
        for p in report.problems { print("verify: \(p)") }
        let summary = "\(report.sets) sets, \(report.records) records, \(report.auditEntries) audit entries"
        if report.ok {
            print("verify: ok (\(summary))")
        } else {
            print("verify: \(report.problems.count) problems (\(summary))")
            throw ExitCode(1)
        }
    }
}
