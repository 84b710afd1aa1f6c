#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Writes each log record as one JSON line on standard error, where the runner (or CloudWatch) collects it.
/// Every process of the backend writes the same keys: `time`, `level`, `service`, `function`, `requestId`,
/// `traceId` (where known) and `message`, then the record's own metadata; `blytz logs` reads them.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    /// The service the process belongs to (`BLYTZ_SERVICE`), or the runner's own name.
    public let service: String

    /// A file descriptor (opened for appending) that gets a copy of every line: the runner's `logs/runner.log`.
    public let copy: Int32?

    public init(label: String, level: Logger.Level = .info, service: String? = nil, copy: Int32? = nil) {
        self.label = label
        self.logLevel = level
        self.service = service ?? ProcessInfo.processInfo.environment["BLYTZ_SERVICE"] ?? "runner"
        self.copy = copy
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [
            "time": Date().formatted(Self.time), "level": "\(event.level)",
            "message": "\(event.message)", "logger": label, "service": service,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = "\(value)"
        }
        guard var line = (try? JSONEncoder.sorted.encode(fields)).map({ String(decoding: $0, as: UTF8.self) }) else { return }
        line.append("\n")
        line.withUTF8 { bytes in
            _ = write(2, bytes.baseAddress, bytes.count)
            if let copy { _ = write(copy, bytes.baseAddress, bytes.count) }
        }
    }
}

extension JSONLogHandler {
    /// UTC, to the millisecond: lines of several processes sort by it.
    static let time = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

extension JSONEncoder {
    fileprivate static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
