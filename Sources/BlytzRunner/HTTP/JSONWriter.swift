import BlytzManifest
import NIOCore

/// Writes JSON straight into a buffer. The runner builds an event and a log line for every request;
/// writing those two fixed shapes directly costs a fraction of going through `JSONEncoder`.
struct JSONWriter {
    var buffer: ByteBuffer
    private var needsComma = false

    init(capacity: Int = 1024) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        buffer.writeInteger(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        buffer.writeInteger(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func object(_ key: String, _ body: (inout JSONWriter) -> Void) {
        self.key(key)
        needsComma = false
        object(body)
    }

    mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        guard let value else { return writeRaw("null") }
        string(value)
    }

    mutating func field(_ key: String, _ value: Int64) {
        self.key(key)
        writeRaw(String(value))
    }

    mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        writeRaw(value ? "true" : "false")
    }

    mutating func field(_ key: String, raw value: String) {
        self.key(key)
        writeRaw(value)
    }

    /// A string map as an object, or null when nil.
    mutating func field(_ key: String, _ map: [String: String]?) {
        guard let map else {
            self.key(key)
            return writeRaw("null")
        }
        object(key) { writer in
            for (name, value) in map { writer.field(name, value) }
        }
    }

    mutating func field(_ key: String, _ list: [String]?) {
        self.key(key)
        guard let list else { return writeRaw("null") }
        buffer.writeInteger(UInt8(ascii: "["))
        for (index, item) in list.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            string(item)
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    private mutating func key(_ key: String) {
        separate()
        string(key)
        buffer.writeInteger(UInt8(ascii: ":"))
        needsComma = false
    }

    private mutating func separate() {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
        needsComma = true
    }

    private mutating func writeRaw(_ text: String) {
        buffer.writeString(text)
        needsComma = true
    }

    private mutating func string(_ value: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        let utf8 = value.utf8
        // Most strings need no escaping: copy them whole.
        if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            buffer.writeString(value)
        } else {
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case 0..<0x20:
                    buffer.writeStaticString("\\u00")
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0xF)])
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
        needsComma = true
    }
}

/// ISO-8601 UTC timestamps with milliseconds, without a formatter.
enum Timestamp {
    static func iso8601(milliseconds: Int64) -> String {
        let time = CivilTime(epochSeconds: milliseconds / 1000)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        let date = "\(pad(time.year, 4))-\(pad(time.month, 2))-\(pad(time.day, 2))"
        return "\(date)T\(pad(time.hour, 2)):\(pad(time.minute, 2)):\(pad(time.second, 2)).\(pad(Int(milliseconds % 1000), 3))Z"
    }
}
