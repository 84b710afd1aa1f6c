#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Every response the tests see, appended as one JSON line to the file `BLYTZ_RESPONSE_LOG` names (when
/// set), so that `local/check_responses.py` can validate each 2xx body against the OpenAPI document.
enum ResponseLog {
    struct Line: Encodable {
        var method: String
        /// The path as the service sees it (no `/api` prefix); what follows a `?` is not matched.
        var path: String
        var status: Int
        var contentType: String?
        var body: String
    }

    static func record(method: String, path: String, status: Int, contentType: String?, body: Data) {
        guard let file = ProcessInfo.processInfo.environment["BLYTZ_RESPONSE_LOG"], !file.isEmpty, (200..<300).contains(status) else { return }
        let text = String(data: body, encoding: .utf8) ?? ""
        guard var line = try? JSONEncoder().encode(Line(method: method, path: path, status: status, contentType: contentType, body: text)) else { return }
        line.append(UInt8(ascii: "\n"))
        // One O_APPEND write per line: lines from concurrent tests never interleave.
        let descriptor = open(file, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard descriptor >= 0 else { return }
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }
}
