/// The outcome of checking a unified social credit code; a check mismatch is kept apart from malformed input because some genuine early pilot
/// codes fail the check digit.
public enum USCCVerdict: Sendable, Equatable {
    /// Well-formed and the check character matches.
    case valid
    /// Well-formed but the 18th character is not `expected`; callers may accept this only with an explicit warning.
    case checkMismatch(expected: Character)
    /// Not a USCC at all; the message says why in short English.
    case malformed(String)
}
