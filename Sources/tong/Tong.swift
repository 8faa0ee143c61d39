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
        version: tongVersion,
        subcommands: [
            Serve.self, Status.self, Demo.self, FederationCommand.self, CA.self, PolicyCommand.self, Backup.self, Restore.self, Verify.self,
            Bench.self,
            Simulate.self,
        ])
}

/// Prints one clear line and exits non-zero: how the CLI reports any failure.
func fail(_ error: any Error) -> Never {
    let message = (error as? NodeError)?.message ?? "\(error)"
    FileHandle.standardError.write(Data("tong: \(message)\n".utf8))
    exit(1)
}

func bootstrapLogging(level: Logger.Level = .info, format: LogFormat = .text) {
    LoggingSystem.bootstrap { label in
        switch format {
        case .text:
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        case .json:
            var h = JSONLogHandler(label: label)
            h.logLevel = level
            return h
        }
    }
}
