import BlytzManifest

/// ISO-8601 UTC timestamps with milliseconds, without a formatter.
enum Timestamp {
    static func iso8601(milliseconds: Int64) -> String {
        let time = CivilTime(epochSeconds: milliseconds / 1000)
        // yyyy-MM-ddTHH:mm:ss.SSSZ
        return String(unsafeUninitializedCapacity: 24) { bytes in
            func put(_ value: Int, width: Int, at offset: Int) {
                var value = value
                for position in stride(from: offset + width - 1, through: offset, by: -1) {
                    bytes[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(time.year, width: 4, at: 0)
            put(time.month, width: 2, at: 5)
            put(time.day, width: 2, at: 8)
            put(time.hour, width: 2, at: 11)
            put(time.minute, width: 2, at: 14)
            put(time.second, width: 2, at: 17)
            put(Int(milliseconds % 1000), width: 3, at: 20)
            (bytes[4], bytes[7], bytes[10], bytes[13], bytes[16], bytes[19], bytes[23]) =
                (UInt8(ascii: "-"), UInt8(ascii: "-"), UInt8(ascii: "T"), UInt8(ascii: ":"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "Z"))
            return 24
        }
    }
}
