import ArgumentParser
import Foundation
import TongCore
import TongDomain
import TongTools

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running node's links and its subtree's sync health (last contact, lag, pending, rejected, conflicts, version).")
    @Option(help: "The node home folder (node.toml and admin.token are read; the node must be running).") var home: String
    @Flag(help: "Print JSON ({\"sync\": …, \"federation\": …}) instead of tables.") var json = false

    func run() async throws {
        do {
            let report = try await StatusReport.fetch(home: NodeHome(path: home))
            print(json ? String(decoding: CanonicalJSON.encode(report), as: UTF8.self) : StatusReport.table(report))
        } catch { fail(error) }
    }
}
