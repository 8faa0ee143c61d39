import ArgumentParser
import Foundation
import TongDomain
import TongServer
import TongSim
import TongTools

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmark apply, convergence and search on this machine.")
    @Flag(help: "Print the contract's JSON object instead of a table.") var json = false
    @Flag(help: "Shrink every scenario to finish in about a minute.") var quick = false
    func run() async throws {
        do { try await Benchmark.run(quick: quick, json: json) } catch { fail(error) }
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate", abstract: "Run the real merge and routing code over N virtual nodes with faults drawn from a seed.")
    @Option(help: "Number of virtual nodes.") var nodes: Int = 100
    @Option(help: "Random seed.") var seed: UInt64 = 1
    func run() async throws {
        let result = Simulation.run(nodes: nodes, seed: seed)
        print(result.summary)
        if !result.ok { throw ExitCode(1) }
    }
}
