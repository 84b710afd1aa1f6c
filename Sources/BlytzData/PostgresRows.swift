import Foundation
import PostgresKit
import SQLKit

/// A statement's binds and rows between SQLKit and postgres-nio, for the kinds of value records hold.
///
/// postgres-kit's own translation (`PostgresDataTranslation`) handles any `Codable`, and pays for it on
/// every cell: it asks the runtime whether the type conforms to `PostgresDecodable`, builds a coding key
/// from the column's name and index, and checks for workarounds of Fluent's. A search's page of twenty
/// postings spent a third of its worker's time there. Here the common types (strings, integers, booleans,
/// doubles, their optionals and string enums) are decoded by postgres-nio directly, as that translation's fast path
/// does, and anything else is handed to it. A statement with a bind of another type is run by
/// postgres-kit as it is.
enum PostgresRows {
    /// The binds as postgres-nio takes them, or nil when one is not a value postgres-nio encodes itself.
    static func bindings(_ binds: [any Encodable & Sendable]) throws -> PostgresBindings? {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            guard try append(bind, to: &bindings) else { return nil }
        }
        return bindings
    }

    private static func append<T: Encodable>(_ value: T, to bindings: inout PostgresBindings) throws -> Bool {
        if (value as Optional<Any>) == nil {
            bindings.appendNull()
        } else if let value = value as? any PostgresThrowingDynamicTypeEncodable {
            try bindings.append(value, context: .default)
        } else {
            return false
        }
        return true
    }
}

/// One row of a statement run by `GuardedPostgres`, as an `SQLRow`.
struct PostgresSQLRow: SQLRow {
    let row: PostgresRow
    let cells: PostgresRandomAccessRow

    init(_ row: PostgresRow) {
        self.row = row
        self.cells = row.makeRandomAccess()
    }

    struct MissingColumn: Error, CustomStringConvertible {
        var column: String
        var description: String { "no column \(column) in the row" }
    }

    var allColumns: [String] { cells.map(\.columnName) }

    func contains(column: String) -> Bool { cells.contains(column) }

    func decodeNil(column: String) throws -> Bool { !cells.contains(column) || cells[column].bytes == nil }

    func decode<T: Decodable>(column: String, as type: T.Type) throws -> T {
        guard cells.contains(column) else { throw MissingColumn(column: column) }
        let cell = cells[column]
        do {
            if T.self == String.self, !cell.dataType.isUserDefined { return try cell.decode(String.self) as! T }
            if T.self == String?.self, !cell.dataType.isUserDefined { return try cell.decode(String?.self) as! T }
            if T.self == Int.self { return try cell.decode(Int.self) as! T }
            if T.self == Int?.self { return try cell.decode(Int?.self) as! T }
            if T.self == Bool.self { return try cell.decode(Bool.self) as! T }
            if T.self == Bool?.self { return try cell.decode(Bool?.self) as! T }
            if T.self == Int64.self { return try cell.decode(Int64.self) as! T }
            // postgres-kit reads a binary `numeric` as a Double its own way.
            if T.self == Double.self, cell.dataType != .numeric { return try cell.decode(Double.self) as! T }
            if T.self == Double?.self, cell.dataType != .numeric { return try cell.decode(Double?.self) as! T }
            // A state or a kind: a string enum, decoded as `Decodable` would from the string.
            if let type = T.self as? any RawRepresentable.Type, let value = try Self.decode(raw: type, cell, column: column) { return value as! T }
        } catch let error as PostgresDecodingError {
            let context = DecodingError.Context(codingPath: [], debugDescription: "column \(column): \(String(reflecting: error))", underlyingError: error)
            switch error.code {
            case .typeMismatch: throw DecodingError.typeMismatch(T.self, context)
            case .missingData: throw DecodingError.valueNotFound(T.self, context)
            default: throw DecodingError.dataCorrupted(context)
            }
        }
        return try row.sql().decode(column: column, as: type)
    }

    /// A `String`-backed enum's value from the cell's text; nil for another raw type.
    private static func decode<R: RawRepresentable>(raw type: R.Type, _ cell: PostgresCell, column: String) throws -> R? {
        guard R.RawValue.self == String.self, !cell.dataType.isUserDefined else { return nil }
        let raw = try cell.decode(String.self)
        guard let value = R(rawValue: raw as! R.RawValue) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "column \(column): no \(R.self) is \"\(raw)\""))
        }
        return value
    }
}
