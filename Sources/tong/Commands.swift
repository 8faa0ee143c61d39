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
    @Flag(help: .hidden) var exitWithParent = false

    func run() async throws {
        // Checked here rather than by ArgumentParser, so a wrong value is one line, not a usage page.
        guard let level = Logger.Level(rawValue: logLevel) else {
            fail(NodeError.config("unknown --log-level \(logLevel); use one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        guard let format = LogFormat(rawValue: logFormat) else {
            fail(NodeError.config("unknown --log-format \(logFormat); use text or json"))
        }
        bootstrapLogging(level: level, format: format)
        do {
            let node = try TongNode.open(home: NodeHome(path: home), logger: Logger(label: "tong"))
            let server = NodeServer(node: node)
            if exitWithParent {
                // Test harnesses start nodes as child processes: a crashed harness must not leave
                // them running and syncing to ports a later run reuses.
                let parent = getppid()
                Task.detached {
                    while getppid() == parent { try? await Task.sleep(for: .milliseconds(300)) }
                    await server.shutdown()
                }
            }
            try await server.run()
        } catch { fail(error) }
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
        commandName: "ca", abstract: "Certificate authority, one step at a time.", subcommands: [Init.self, Issue.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a federation CA in DIR (ca.pem, ca.key 0600).")
        @Option(help: "Federation name.") var federation: String
        @Option(help: "Output folder.") var out: String
        func run() async throws {
            do { try CertificateCommands.initCA(federation: federation, out: out); print("CA written to \(out)/ca.pem and \(out)/ca.key") } catch {
                fail(error)
            }
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a node home (certificate, config, tokens) from a CA and a topology.")
        @Option(help: "CA folder (ca.pem, ca.key).") var ca: String
        @Option(help: "Topology file.") var topology: String
        @Option(help: "Node id.") var node: String
        @Option(help: "Node home to write.") var out: String
        func run() async throws {
            do {
                try CertificateCommands.issue(caDir: ca, topologyFile: topology, node: node, out: out); print("node home \(out) issued for \(node)")
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
                let node = try TongNode.open(home: h, logger: Logger(label: "tong"))
                try node.publishDirectory()
                let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(
                    String.init)
                let r = try node.importPolicies(lines: lines)
                for e in r.errors.prefix(20) { FileHandle.standardError.write(Data("tong: \(e)\n".utf8)) }
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
        abstract: "Check a node's replica: the audit trail's hash chain, every set's signature, and that replaying the change log gives the stored records.")
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
