/// `tong bench` (placeholder until the benchmark lands).
public enum Benchmark {
    /// Runs the scenarios and prints a table or the contract's JSON.
    public static func run(quick: Bool, json: Bool) async throws {
        throw ServerError.config("bench: not implemented yet")
    }
}
