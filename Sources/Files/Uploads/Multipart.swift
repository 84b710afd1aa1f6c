import Foundation
import MultipartKit
import NIOCore

/// The parts of a `multipart/form-data` body (multipart-kit's parser): a file part (the first with a
/// filename) and the text fields beside it.
struct FormUpload {
    var data: Data
    var filename: String?
    var contentType: String?
    var fields: [String: String]

    /// Parses `body` sent with `contentType`; nil when it is not multipart, or is malformed.
    init?(body: Data, contentType: String) {
        guard let boundary = Self.boundary(contentType) else { return nil }
        var parts: [(headers: [(String, String)], body: ByteBuffer)] = []
        var headers: [(String, String)] = []
        var current = ByteBuffer()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers.append((name.lowercased(), value)) }
        parser.onBody = { chunk in current.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append((headers, current))
            headers = []
            current = ByteBuffer()
        }
        do { try parser.execute(ByteBuffer(bytes: body)) } catch { return nil }
        var file: (data: Data, filename: String?, contentType: String?)?
        var fields: [String: String] = [:]
        for part in parts {
            let disposition = part.headers.first { $0.0 == "content-disposition" }?.1 ?? ""
            let name = Self.parameter("name", in: disposition)
            if let filename = Self.parameter("filename", in: disposition), file == nil {
                file = (Data(part.body.readableBytesView), filename, part.headers.first { $0.0 == "content-type" }?.1)
            } else if let name {
                fields[name] = String(buffer: part.body)
            }
        }
        guard let file else { return nil }
        (data, filename, self.contentType) = file
        self.fields = fields
    }

    static func boundary(_ contentType: String) -> String? {
        guard ContentType.mediaType(contentType) == "multipart/form-data" else { return nil }
        return parameter("boundary", in: contentType)
    }

    /// A `name=value` or `name="value"` parameter of a header value.
    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
