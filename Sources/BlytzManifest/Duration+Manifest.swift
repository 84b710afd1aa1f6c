import Foundation

extension Duration {
    /// Parses `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds.
    init?(manifest text: String) {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            guard let value = Double(trimmed.dropLast(unit.suffix.count)), value >= 0 else { return nil }
            self = .milliseconds(Int64((value * unit.seconds * 1000).rounded()))
            return
        }
        guard let seconds = Double(trimmed), seconds >= 0 else { return nil }
        self = .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Milliseconds with their fraction, for measured durations.
    public var fractionalMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// Whole milliseconds.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
