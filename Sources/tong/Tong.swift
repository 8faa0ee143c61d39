import ArgumentParser
import Foundation
import Logging
import TongDomain
import TongServer
import TongTools

/// The `tong` command: argument parsing only; the work is in the libraries.
@main
struct Tong: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tong",
        abstract: "Tong (通): a federated sync node for the small and micro enterprise service column.",
        subcommands: [
            Serve.self, Demo.self, FederationCommand.self, CA.self, PolicyCommand.self, Backup.self, Restore.self, Verify.self,
            Bench.self, Simulate.self,
        ])
}

/// Prints one clear line and exits non-zero: how the CLI reports any failure.
func fail(_ error: any Error) -> Never {
    let message = (error as? NodeError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("tong: \(message)\n".utf8))
    exit(1)
}

func bootstrapLogging(level: Logger.Level = .info) {
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = level
        return h
    }
}
