#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// One JSON line per invocation on standard output, buffered so logging never slows the hot path.
final class InvocationLog: Sendable {
    struct Line: Encodable {
        var time: String
        var level = "info"
        var message = "invoked"
        var fn: String
        var requestId: String
        var status: Int
        var durationMs: Double
        var coldStart: Bool
        var trigger: String
    }

    private let buffer = Mutex<[UInt8]>([])
    private let fd: Int32

    init(fd: Int32 = 1) {
        self.fd = fd
    }

    func record(function: String, requestID: String, status: Int, durationMs: Double, coldStart: Bool, trigger: String) {
        let line = Line(
            time: Date().formatted(.iso8601), fn: function, requestId: requestID, status: status,
            durationMs: (durationMs * 1000).rounded() / 1000, coldStart: coldStart, trigger: trigger
        )
        guard var bytes = try? JSONEncoder().encode(line) else { return }
        bytes.append(UInt8(ascii: "\n"))
        let full = buffer.withLock { buffer -> [UInt8]? in
            buffer.append(contentsOf: bytes)
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
