import Foundation

/// The JSON lines under a local backend's `logs` directory, merged in time order (`blytz logs`, and the
/// dashboard's logs view): the runner's own (`runner.log`), one per invocation (`invocations.log`), each
/// function's workers (`<function>.log`) and each service command (`<command>-<service>.log`). Each call
/// reads what was written since the last.
public final class LogReader: @unchecked Sendable {
    private let directory: String
    private var files: [String: LogFile] = [:]
    private let lock = NSLock()

    public init(directory: String) {
        self.directory = directory
    }

    /// The new lines `filter` admits, in time order (lines of one time keep their file's order).
    public func read(_ filter: LogFilter) -> [String] {
        lock.withLock {
            var lines: [LogLine] = []
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".log") && !$0.hasPrefix("build-") }
            for name in names.sorted() {
                let file = files[name] ?? LogFile(path: directory + "/" + name)
                files[name] = file
                lines += file.readNew().filter(filter.admits)
            }
            return lines.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element.text)
        }
    }
}

/// One log line, as printed, with what it is filtered and ordered by.
struct LogLine {
    var time: String
    var fields: [String: Any]
    var text: String
}

/// Which lines are read: those of a function, a service, a trace or a request.
public struct LogFilter: Sendable {
    public var function: String?
    public var service: String?
    public var traceId: String?
    public var requestId: String?

    /// `trace`: its 32 hex digits, or a whole `traceparent`.
    public init(function: String? = nil, service: String? = nil, trace: String? = nil, requestId: String? = nil) {
        self.function = function
        self.service = service
        self.traceId = trace.map { $0.split(separator: "-").count == 4 ? String($0.split(separator: "-")[1]) : $0 }
        self.requestId = requestId
    }

    func admits(_ line: LogLine) -> Bool {
        func matches(_ key: String, _ wanted: String?) -> Bool { wanted.map { line.fields[key] as? String == $0 } ?? true }
        return matches("function", function) && matches("service", service) && matches("traceId", traceId) && matches("requestId", requestId)
    }
}

/// A log file read a piece at a time: what was read, and the last time seen in it.
final class LogFile {
    let path: String
    /// What a line that is not JSON is shown as coming from: the file's name (`<function>.log` for a
    /// function's workers), except for the runner's own files.
    let function: String?
    private var offset: UInt64 = 0
    private var partial = Data()
    private var lastTime = ""
    private var lastService = "unknown"

    init(path: String) {
        self.path = path
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        function = ["runner", "invocations"].contains(name) ? nil : name
    }

    /// The complete lines written since the last call.
    func readNew() -> [LogLine] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let data = handle.readDataToEndOfFile()
        offset += UInt64(data.count)
        partial.append(data)
        guard let end = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = partial[partial.startIndex..<end]
        partial = Data(partial[(end + 1)...])
        return complete.split(separator: UInt8(ascii: "\n")).compactMap { line(String(decoding: $0, as: UTF8.self)) }
    }

    private func line(_ text: String) -> LogLine? {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        if let fields = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let time = fields["time"] as? String {
            lastTime = time
            if let service = fields["service"] as? String { lastService = service }
            return LogLine(time: time, fields: fields, text: text)
        }
        var fields: [String: Any] = ["time": lastTime, "level": "info", "service": lastService, "message": text]
        if let function { fields["function"] = function }
        return LogLine(time: lastTime, fields: fields, text: Self.json(fields) ?? text)
    }

    static func json(_ fields: [String: Any]) -> String? {
        (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) }
    }
}
