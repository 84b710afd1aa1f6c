import Blytz
import Foundation

/// What a file's bytes are, read from their signature ("magic numbers") rather than trusted from a name or
/// a header; and which declared types the bytes may stand behind.
enum ContentType {
    /// The types the service stores.
    static let accepted: Set = [
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "video/mp4", "audio/mpeg", "text/plain", "text/csv", "text/markdown", "application/json",
    ]

    /// The type the first bytes of a file show (a few kilobytes suffice).
    static func detect(_ head: Data) -> String {
        let bytes = [UInt8](head.prefix(4096))
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + signature.count && Array(bytes[offset..<offset + signature.count]) == signature
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) { return "application/zip" }
        if starts(Array("ftyp".utf8), at: 4) { return "video/mp4" }
        if starts(Array("ID3".utf8)) || starts([0xFF, 0xFB]) { return "audio/mpeg" }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "application/x-executable" }  // ELF
        if starts(Array("MZ".utf8)) { return "application/x-msdownload" }  // Windows PE
        if starts([0xCF, 0xFA, 0xED, 0xFE]) || starts([0xCE, 0xFA, 0xED, 0xFE]) || starts([0xCA, 0xFE, 0xBA, 0xBE]) { return "application/x-mach-binary" }
        if starts(Array("#!".utf8)) { return "text/x-shellscript" }
        if !bytes.contains(0), validUTF8Prefix(bytes) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.hasPrefix("<") && text.lowercased().contains("<html") || text.lowercased().hasPrefix("<!doctype html") { return "text/html" }
            if text.hasPrefix("<svg") || text.hasPrefix("<?xml") && text.contains("<svg") { return "image/svg+xml" }
            return "text/plain"
        }
        return "application/octet-stream"
    }

    /// Whether bytes detected as `detected` may be stored as `declared`: the same type; a ZIP behind an
    /// Office document; plain text behind a text type or JSON. `nil` declared takes the detected type.
    static func compatible(declared: String, detected: String) -> Bool {
        if declared == detected { return true }
        if detected == "application/zip" { return declared.hasPrefix("application/vnd.openxmlformats-officedocument.") }
        if detected == "text/plain" { return ["text/csv", "text/markdown", "application/json"].contains(declared) }
        return false
    }

    /// The media type of a `Content-Type` value, lowercased, without parameters.
    static func mediaType(_ header: String?) -> String? {
        guard let type = header?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(), !type.isEmpty else { return nil }
        return type
    }

    /// The type a file is stored as, or a 415 naming what the bytes are.
    static func check(declared: String?, head: Data) throws(HTTPError) -> String {
        let detected = detect(head)
        let declared = declared.flatMap { $0 == "application/octet-stream" ? nil : $0 } ?? detected
        guard accepted.contains(declared) else {
            throw refusal("\(declared) is not a type stored here (the bytes are \(detected))")
        }
        guard compatible(declared: declared, detected: detected) else {
            throw refusal("the bytes are \(detected), not \(declared)")
        }
        return declared
    }

    static func refusal(_ message: String) -> HTTPError {
        HTTPError(415, detail: "The file's type is refused: \(message).", errors: [.init(field: "contentType", message: message)])
    }

    /// Whether `bytes` is UTF-8, allowing a character cut at the end.
    static func validUTF8Prefix(_ bytes: [UInt8]) -> Bool {
        for cut in 0...min(3, bytes.count) where String(validating: bytes.dropLast(cut), as: UTF8.self) != nil { return true }
        return false
    }
}
