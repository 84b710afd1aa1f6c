import Foundation

/// One `Range: bytes=…` of a file of `size` bytes (RFC 9110 §14): several ranges, or one that does not
/// parse, are answered whole.
public enum ByteRange: Equatable, Sendable {
    case whole
    case range(ClosedRange<Int>)
    case unsatisfiable

    public static func parse(_ header: String?, size: Int) -> ByteRange {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return .whole }
        switch (Int(parts[0]), Int(parts[1]), parts[0].isEmpty, parts[1].isEmpty) {
        case (nil, let suffix?, true, false):
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .range(max(0, size - suffix)...(size - 1))
        case (let first?, nil, false, true):
            guard first >= 0, first < size else { return .unsatisfiable }
            return .range(first...(size - 1))
        case (let first?, let last?, false, false):
            guard first >= 0, first <= last else { return .whole }
            guard first < size else { return .unsatisfiable }
            return .range(first...min(last, size - 1))
        default:
            return .whole
        }
    }
}
