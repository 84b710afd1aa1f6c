import SQLKit

/// Records name their properties in camel case and their columns in snake case (`contractId` is
/// `contract_id`). SQLKit's own `.convertToSnakeCase` and `.convertFromSnakeCase` give the same names, but
/// work them out with Unicode character properties for every column of every row, which was a fifth of the
/// import's and a request's decoding time. These strategies give the same names from the key's ASCII bytes,
/// and leave a key without capitals as it is.
extension SQLRowDecoder.KeyDecodingStrategy {
    public static let snakeCase = Self.custom(ColumnName.of)
}

extension SQLQueryEncoder.KeyEncodingStrategy {
    public static let snakeCase = Self.custom(ColumnName.of)
}

public enum ColumnName {
    /// The column of the last key of `path` (SQLKit's custom strategies pass the path, whose last key is
    /// the one to name).
    @Sendable static func of(_ path: [any CodingKey]) -> any CodingKey {
        SomeCodingKey(stringValue: snakeCased(path.last?.stringValue ?? ""))
    }

    /// `contractId` → `contract_id`, `myURLValue` → `my_uRL_value`: the words SQLKit's `convertedToSnakeCase`
    /// finds (a capital starts a word; a run of capitals is one word, whose last capital starts the next word
    /// when a lower-case letter follows), each with its first letter lowered, joined by `_`. Keys are ASCII.
    public static func snakeCased(_ key: String) -> String {
        guard key.utf8.contains(where: isUpper) else { return key }
        let chars = Array(key.utf8)
        var words: [Range<Int>] = []
        var wordStart = 0, searchIndex = 1
        while searchIndex < chars.count, let upper = chars[searchIndex...].firstIndex(where: isUpper) {
            words.append(wordStart..<upper)
            wordStart = upper
            guard let lower = chars[upper...].firstIndex(where: isLower) else { break }
            searchIndex = lower
            if lower != upper + 1 {
                words.append(upper..<lower - 1)
                wordStart = lower - 1
            }
        }
        words.append(wordStart..<chars.count)
        var out: [UInt8] = []
        out.reserveCapacity(chars.count + words.count)
        for (index, word) in words.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "_")) }
            for position in word { out.append(position == word.lowerBound && isUpper(chars[position]) ? chars[position] + 32 : chars[position]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 65 && byte <= 90 }
    private static func isLower(_ byte: UInt8) -> Bool { byte >= 97 && byte <= 122 }
}
