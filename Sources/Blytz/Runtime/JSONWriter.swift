import NIOCore

/// Writes JSON straight into bytes. Every invocation's event, its answer and the runner's log line are
/// written this way: for these fixed shapes it costs a fraction of going through `JSONEncoder`.
public struct JSONWriter {
    /// What has been written.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// What has been written, in a buffer.
    public var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    /// Appends a byte outside the JSON (a line's newline).
    public mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func object(_ key: String, _ body: (inout JSONWriter) -> Void) {
        self.key(key)
        needsComma = false
        object(body)
    }

    public mutating func field(_ key: String, _ value: String?) {
        self.key(key)
        guard let value else { return writeRaw("null") }
        string(value)
    }

    public mutating func field(_ key: String, _ value: Int64) {
        self.key(key)
        writeRaw(String(value))
    }

    public mutating func field(_ key: String, _ value: Bool) {
        self.key(key)
        writeRaw(value ? "true" : "false")
    }

    public mutating func field(_ key: String, raw value: String) {
        self.key(key)
        writeRaw(value)
    }

    /// A string map as an object, or null when nil.
    public mutating func field(_ key: String, _ map: [String: String]?) {
        guard let map else {
            self.key(key)
            return writeRaw("null")
        }
        object(key) { writer in
            for (name, value) in map { writer.field(name, value) }
        }
    }

    public mutating func field(_ key: String, _ list: [String]?) {
        self.key(key)
        guard let list else { return writeRaw("null") }
        bytes.append(UInt8(ascii: "["))
        for (index, item) in list.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(item)
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    private mutating func key(_ key: String) {
        separate()
        string(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    private mutating func writeRaw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    /// A quoted string: runs that need no escaping are copied whole.
    private mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            bytes.reserveCapacity(bytes.count + utf8.count + 2)
            bytes.append(UInt8(ascii: "\""))
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                default: bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hexDigit(byte >> 4), Self.hexDigit(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
            bytes.append(UInt8(ascii: "\""))
        }
        needsComma = true
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
