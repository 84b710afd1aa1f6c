/// Reads JSON from bytes, value by value, for the fixed shapes every invocation carries (the API Gateway
/// event and the function's answer). It accepts exactly what JSON allows, skips what the caller does not
/// ask for, and throws `Malformed` with the offset of the first byte it cannot accept.
public struct JSONReader {
    public struct Malformed: Error, Equatable {
        public var offset: Int
        public var reason: String
    }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Reads one JSON document from `bytes` with `body`; throws when anything but whitespace follows it.
    public static func read<Bytes: ContiguousBytes, T>(_ bytes: Bytes, _ body: (inout JSONReader) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            let value = try body(&reader)
            reader.skipSpace()
            guard reader.index == raw.count else { throw reader.malformed("unexpected bytes after the document") }
            return value
        }
    }

    /// Reads `{…}`, handing each key to `field`, which must read (or `skip()`) its value.
    public mutating func object(_ field: (inout JSONReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if peek() == UInt8(ascii: "}") { index += 1; return }
        while true {
            skipSpace()
            let key = try string()
            skipSpace()
            try expect(UInt8(ascii: ":"))
            try field(&self, key)
            skipSpace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return
            default: throw malformed("expected ',' or '}' in an object")
            }
        }
    }

    /// Reads `[…]`, calling `element` for each item.
    public mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        skipSpace()
        if peek() == UInt8(ascii: "]") { index += 1; return }
        while true {
            try element(&self)
            skipSpace()
            switch next() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return
            default: throw malformed("expected ',' or ']' in an array")
            }
        }
    }

    /// Consumes `null` and answers true, or answers false and consumes nothing.
    public mutating func null() -> Bool {
        skipSpace()
        guard literal("null") else { return false }
        return true
    }

    /// A string, or nil for `null`.
    public mutating func optionalString() throws -> String? {
        try null() ? nil : string()
    }

    public mutating func string() throws -> String {
        skipSpace()
        try expect(UInt8(ascii: "\""))
        let start = index
        // The common case: no escapes, copied whole (ASCII needs no further check).
        var bits: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return bits < 0x80 ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) : try text(start..<index)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw malformed("a control character in a string") }
            bits |= byte
            index += 1
        }
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let decoded = String(validating: utf8, as: UTF8.self) else { throw malformed("a string that is not UTF-8") }
                return decoded
            case UInt8(ascii: "\\"):
                try unescape(into: &utf8)
            case 0..<0x20:
                throw malformed("a control character in a string")
            default:
                utf8.append(byte)
            }
        }
        throw malformed("an unterminated string")
    }

    /// An integer; a number written with a fraction or an exponent is accepted when its value is whole
    /// (`200.0`, `1e2`), as `JSONDecoder` accepts it.
    public mutating func int() throws -> Int64 {
        skipSpace()
        let start = index
        try number()
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        let negative = text.first == UInt8(ascii: "-")
        let digits = text.dropFirst(negative ? 1 : 0)
        if digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            var value: Int64 = 0
            for digit in digits {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, carry) = times.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")) * (negative ? -1 : 1))
                guard !overflow, !carry else { throw Malformed(offset: start, reason: "an integer out of range") }
                value = sum
            }
            return value
        }
        // A fraction or an exponent: whole and in range, or refused.
        guard let double = Double(String(decoding: text, as: UTF8.self)), double.rounded() == double, let whole = Int64(exactly: double) else {
            throw Malformed(offset: start, reason: "expected an integer")
        }
        return whole
    }

    public mutating func bool() throws -> Bool {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw malformed("expected true or false")
    }

    /// An object of strings, or nil for `null`.
    public mutating func stringMap() throws -> [String: String]? {
        if null() { return nil }
        var map: [String: String] = [:]
        try object { reader, key in map[key] = try reader.string() }
        return map
    }

    /// An array of strings, or nil for `null`.
    public mutating func stringArray() throws -> [String]? {
        if null() { return nil }
        var list: [String] = []
        try array { reader in list.append(try reader.string()) }
        return list
    }

    /// Skips one value of any kind, checking that it is well-formed.
    public mutating func skip() throws {
        skipSpace()
        switch peek() {
        case UInt8(ascii: "{"): try object { reader, _ in try reader.skip() }
        case UInt8(ascii: "["): try array { reader in try reader.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"):
            guard null() else { throw malformed("expected null") }
        default: try number()
        }
    }

    // MARK: Bytes

    private mutating func number() throws {
        if peek() == UInt8(ascii: "-") { index += 1 }
        let first = index
        let count = try digits()
        guard count > 0 else { throw malformed("expected a value") }
        guard count == 1 || bytes[first] != UInt8(ascii: "0") else { throw Malformed(offset: first, reason: "a number with a leading zero") }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard try digits() > 0 else { throw malformed("expected digits after '.'") }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard try digits() > 0 else { throw malformed("expected an exponent") }
        }
    }

    private mutating func digits() throws -> Int {
        let start = index
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }

    private mutating func unescape(into utf8: inout [UInt8]) throws {
        guard let escaped = next() else { throw malformed("an unterminated escape") }
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw malformed("a lone surrogate") }
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw malformed("a lone surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let character = Unicode.Scalar(scalar) else { throw malformed("a lone surrogate") }
            utf8.append(contentsOf: UTF8.encode(character)!)
        default:
            throw malformed("an unknown escape")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw malformed("an unterminated escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw malformed("expected four hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private func text(_ range: Range<Int>) throws -> String {
        guard let decoded = String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) else {
            throw malformed("a string that is not UTF-8")
        }
        return decoded
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard next() == byte else { throw malformed("expected '\(Character(Unicode.Scalar(byte)))'") }
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private func malformed(_ reason: String) -> Malformed {
        Malformed(offset: index, reason: reason)
    }
}
