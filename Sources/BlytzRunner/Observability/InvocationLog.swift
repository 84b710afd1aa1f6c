#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Synchronization

/// One JSON line per invocation on standard output, buffered so logging never slows the hot path.
final class InvocationLog: Sendable {
    private let buffer = Mutex<[UInt8]>([])
    private let fd: Int32

    init(fd: Int32 = 1) {
        self.fd = fd
    }

    /// Logs one invocation; a queue function's line names the events it was handed (`events`).
    func record(function: String, requestID: String, status: Int, durationMs: Double, coldStart: Bool, trigger: String, events: [String]? = nil) {
        var writer = JSONWriter(capacity: 256)
        writer.object { json in
            json.field("time", Timestamp.iso8601(milliseconds: wallClockMilliseconds()))
            json.field("level", "info")
            json.field("message", "invoked")
            json.field("fn", function)
            json.field("requestId", requestID)
            json.field("status", Int64(status))
            json.field("durationMs", raw: String((durationMs * 1000).rounded() / 1000))
            json.field("coldStart", coldStart)
            json.field("trigger", trigger)
            if let events { json.field("events", events) }
        }
        writer.buffer.writeInteger(UInt8(ascii: "\n"))
        let line = writer.buffer
        let full = buffer.withLock { buffer -> [UInt8]? in
            buffer.append(contentsOf: line.readableBytesView)
            guard buffer.count > 32 * 1024 else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let full { write(full) }
    }

    /// Writes what is buffered.
    func flush() {
        let pending = buffer.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if !pending.isEmpty { write(pending) }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
