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
        var key = key
        // Written straight into the new string: its one allocation instead of three arrays and the string.
        return key.withUTF8 { chars in
            String(unsafeUninitializedCapacity: chars.count * 2) { out in
                var written = 0
                func append(_ word: Range<Int>) {
                    if written > 0 {
                        out[written] = UInt8(ascii: "_")
                        written += 1
                    }
                    for position in word {
                        out[written] = position == word.lowerBound && isUpper(chars[position]) ? chars[position] + 32 : chars[position]
                        written += 1
                    }
                }
                var wordStart = 0, searchIndex = 1
                while searchIndex < chars.count, let upper = chars[searchIndex...].firstIndex(where: isUpper) {
                    append(wordStart..<upper)
                    wordStart = upper
                    guard let lower = chars[upper...].firstIndex(where: isLower) else { break }
                    searchIndex = lower
                    if lower != upper + 1 {
                        append(upper..<lower - 1)
                        wordStart = lower - 1
                    }
                }
                append(wordStart..<chars.count)
                return written
            }
        }
    }

    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 65 && byte <= 90 }
    private static func isLower(_ byte: UInt8) -> Bool { byte >= 97 && byte <= 122 }
}
