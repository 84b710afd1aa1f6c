import Foundation

/// A small seeded generator, so generated demo and benchmark data is the same every run.
public struct SplitMix: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A UUID drawn from the generator (version 4 layout).
    public mutating func uuid() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &self) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}

/// Indexes in `0..<count` drawn with probability proportional to 1/(rank+1)^exponent: a few common, many rare.
public struct Zipf: Sendable {
    let cumulative: [Double]

    public init(count: Int, exponent: Double = 1) {
        var total = 0.0
        cumulative = (0..<count).map { rank in
            total += 1 / pow(Double(rank + 1), exponent)
            return total
        }
    }

    public func draw(using generator: inout some RandomNumberGenerator) -> Int {
        let target = Double.random(in: 0..<(cumulative.last ?? 1), using: &generator)
        var (low, high) = (0, cumulative.count - 1)
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] <= target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
