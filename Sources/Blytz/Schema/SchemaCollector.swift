import Foundation

/// A type that states its own JSON Schema instead of having it derived from its `init(from:)`.
public protocol SchemaDescribing {
    static func jsonSchema(_ schemas: SchemaCollector) -> JSONValue
    /// The media type of a response body of this type.
    static var contentType: String { get }
}

extension SchemaDescribing {
    public static var contentType: String { "application/json" }
}

/// A response body that can also answer in other media types (a printable page beside the JSON), which
/// the API document lists with their schemas.
public protocol AlternateMedia {
    static var alternateMedia: [String: JSONValue] { get }
}

/// Derives JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses them) from `Decodable` types by walking their
/// `init(from:)` with a recording decoder: every key a type decodes becomes a property, `decodeIfPresent`
/// makes it optional, and nested types become named components referenced with `$ref`.
///
/// ```
/// let schemas = SchemaCollector()
/// let input = schemas.schema(for: Register.Input.self)   // {"$ref": "#/components/schemas/Users.Register.Input"}
/// schemas.components                                     // every named schema met on the way
/// ```
/// Enums that are `CaseIterable` list their encoded cases; `Date` is an ISO 8601 `date-time` string,
/// `Data` base64, `JSONValue` any value. A type that needs another shape adopts `SchemaDescribing`.
public final class SchemaCollector {
    /// Named object schemas, by component name.
    public private(set) var components: [String: JSONValue] = [:]
    private var inProgress: Set<String> = []

    public init() {}

    /// The schema of `type`: inline for scalars, arrays and maps, a `$ref` to a component for objects.
    public func schema<T: Decodable>(for type: T.Type) -> JSONValue {
        if let scalar = Self.scalar(type) { return scalar }
        if let described = type as? any SchemaDescribing.Type { return described.jsonSchema(self) }
        if let optional = type as? any OptionalSchema.Type { return optional.wrappedSchema(self) }
        if let array = type as? any ArraySchema.Type { return ["type": "array", "items": array.elementSchema(self)] }
        if let map = type as? any MapSchema.Type { return ["type": "object", "additionalProperties": map.valueSchema(self)] }
        if let cases = type as? any (CaseIterable & Encodable).Type { return Self.enumeration(cases) }
        let name = Self.componentName(type)
        let reference: JSONValue = ["$ref": .string("#/components/schemas/\(name)")]
        if components[name] != nil || inProgress.contains(name) { return reference }
        inProgress.insert(name)
        defer { inProgress.remove(name) }
        let record = Record()
        _ = try? T(from: SchemaWalker(collector: self, record: record, codingPath: []))
        let walked = record.schema
        // A type that decodes itself as one value (a wrapper) is that value's schema, inline.
        guard case .object(let fields) = walked, fields["type"] == "object" else { return walked }
        components[name] = walked
        return reference
    }

    /// A value of `type` built from neutral placeholders (empty strings, zeros, first cases, no optionals),
    /// so a walk can go on past a decoded property; tests use it for an event whose contents do not matter.
    public func placeholder<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = Self.scalarPlaceholder(type) { return value }
        if let cases = type as? any (CaseIterable & Decodable).Type, let first = Self.firstCase(cases) as? T { return first }
        return try T(from: PlaceholderDecoder(collector: self, codingPath: []))
    }

    /// `Users.Register.Input`, `BlytzEvents.Page-Users.UserView`: the type's full name, made a valid component key.
    static func componentName(_ type: Any.Type) -> String {
        String(reflecting: type)
            .replacingOccurrences(of: "<", with: "-").replacingOccurrences(of: ", ", with: "-")
            .filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }
    }

    static func scalar(_ type: Any.Type) -> JSONValue? {
        switch type {
        case is String.Type, is Substring.Type: ["type": "string"]
        case is Bool.Type: ["type": "boolean"]
        case is Int.Type, is Int64.Type, is UInt64.Type, is UInt.Type: ["type": "integer", "format": "int64"]
        case is Int32.Type, is Int16.Type, is Int8.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type: ["type": "integer", "format": "int32"]
        case is Double.Type, is Float.Type, is Decimal.Type: ["type": "number"]
        case is Date.Type: ["type": "string", "format": "date-time"]
        case is UUID.Type: ["type": "string", "format": "uuid"]
        case is URL.Type: ["type": "string", "format": "uri"]
        case is Data.Type: ["type": "string", "contentEncoding": "base64"]
        case is JSONValue.Type: [:]
        default: nil
        }
    }

    static func scalarPlaceholder<T>(_ type: T.Type) -> T? {
        let value: Any? = switch type {
        case is String.Type: ""
        case is Substring.Type: Substring("")
        case is Bool.Type: false
        case is Int.Type: 0
        case is Int64.Type: Int64(0)
        case is Int32.Type: Int32(0)
        case is Int16.Type: Int16(0)
        case is Int8.Type: Int8(0)
        case is UInt.Type: UInt(0)
        case is UInt64.Type: UInt64(0)
        case is UInt32.Type: UInt32(0)
        case is UInt16.Type: UInt16(0)
        case is UInt8.Type: UInt8(0)
        case is Double.Type: 0.0
        case is Float.Type: Float(0)
        case is Decimal.Type: Decimal(0)
        case is Date.Type: Date(timeIntervalSince1970: 0)
        case is UUID.Type: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        case is URL.Type: URL(string: "https://example.com")!
        case is Data.Type: Data()
        case is JSONValue.Type: JSONValue.null
        default: nil
        }
        return value as? T
    }

    static func enumeration<T: CaseIterable & Encodable>(_ type: T.Type) -> JSONValue {
        let values = type.allCases.compactMap { (try? JSON.encoder().encode($0)).flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) } }
        let kind: JSONValue = values.allSatisfy { if case .string = $0 { true } else { false } } ? "string" : "integer"
        return ["type": kind, "enum": .array(values)]
    }

    static func firstCase<T: CaseIterable>(_ type: T.Type) -> Any? { type.allCases.first }
}

// MARK: - Containers the walk recognises without decoding them

protocol OptionalSchema { static func wrappedSchema(_ schemas: SchemaCollector) -> JSONValue }
extension Optional: OptionalSchema where Wrapped: Decodable {
    static func wrappedSchema(_ schemas: SchemaCollector) -> JSONValue { schemas.schema(for: Wrapped.self) }
}

protocol ArraySchema { static func elementSchema(_ schemas: SchemaCollector) -> JSONValue }
extension Array: ArraySchema where Element: Decodable {
    static func elementSchema(_ schemas: SchemaCollector) -> JSONValue { schemas.schema(for: Element.self) }
}
extension Set: ArraySchema where Element: Decodable {
    static func elementSchema(_ schemas: SchemaCollector) -> JSONValue { schemas.schema(for: Element.self) }
}

protocol MapSchema { static func valueSchema(_ schemas: SchemaCollector) -> JSONValue }
extension Dictionary: MapSchema where Key == String, Value: Decodable {
    static func valueSchema(_ schemas: SchemaCollector) -> JSONValue { schemas.schema(for: Value.self) }
}

// MARK: - The recording decoder

/// What one walk saw: an object's properties in order, or the schema of a single value or an array.
final class Record {
    var properties: [(key: String, schema: JSONValue, required: Bool)] = []
    var single: JSONValue?

    var schema: JSONValue {
        if let single { return single }
        var fields: [String: JSONValue] = ["type": "object", "properties": .object(Dictionary(properties.map { ($0.key, $0.schema) }) { first, _ in first })]
        let required = properties.filter(\.required).map { JSONValue.string($0.key) }
        if !required.isEmpty { fields["required"] = .array(required) }
        return .object(fields)
    }

    func add(_ key: String, _ schema: JSONValue, required: Bool) {
        if let index = properties.firstIndex(where: { $0.key == key }) {
            properties[index].required = properties[index].required || required
        } else {
            properties.append((key, schema, required))
        }
    }
}

struct SchemaWalker: Decoder {
    let collector: SchemaCollector
    let record: Record
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed<Key>(walker: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { Unkeyed(walker: self) }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(walker: self) }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let walker: SchemaWalker
        var codingPath: [any CodingKey] { walker.codingPath }
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool { false }
        func decodeNil(forKey key: Key) throws -> Bool { false }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            walker.record.add(key.stringValue, walker.collector.schema(for: type), required: true)
            return try walker.collector.placeholder(type)
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try optional(type, key) }
        // The standard library's own overloads for these would ask `contains` first and never record the key.
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
        func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
        func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }

        private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
            walker.record.add(key.stringValue, walker.collector.schema(for: type), required: false)
            return nil
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            let nested = Record()
            defer { walker.record.add(key.stringValue, nested.schema, required: true) }
            return KeyedDecodingContainer(SchemaWalker.Keyed<NestedKey>(walker: SchemaWalker(collector: walker.collector, record: nested, codingPath: codingPath + [key])))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            walker.record.add(key.stringValue, ["type": "array"], required: true)
            return Unkeyed(walker: SchemaWalker(collector: walker.collector, record: Record(), codingPath: codingPath + [key]))
        }

        func superDecoder() throws -> any Decoder { walker }
        func superDecoder(forKey key: Key) throws -> any Decoder { walker }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let walker: SchemaWalker
        var codingPath: [any CodingKey] { walker.codingPath }
        var count: Int? { 1 }
        var currentIndex = 0
        var isAtEnd: Bool { currentIndex > 0 }

        mutating func decodeNil() throws -> Bool { false }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            currentIndex += 1
            walker.record.single = ["type": "array", "items": walker.collector.schema(for: type)]
            return try walker.collector.placeholder(type)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            currentIndex += 1
            return try walker.container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            currentIndex += 1
            return Unkeyed(walker: walker)
        }

        mutating func superDecoder() throws -> any Decoder { walker }
    }

    struct Single: SingleValueDecodingContainer {
        let walker: SchemaWalker
        var codingPath: [any CodingKey] { walker.codingPath }

        func decodeNil() -> Bool { false }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            walker.record.single = walker.collector.schema(for: type)
            return try walker.collector.placeholder(type)
        }
    }
}

/// Builds a neutral value of a type: empty strings, zeros, the first case, no optionals, empty collections.
struct PlaceholderDecoder: Decoder {
    let collector: SchemaCollector
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { KeyedDecodingContainer(Keyed<Key>(decoder: self)) }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { Unkeyed(decoder: self) }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: PlaceholderDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        var allKeys: [Key] { [] }
        func contains(_ key: Key) -> Bool { false }
        func decodeNil(forKey key: Key) throws -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try decoder.collector.placeholder(type) }
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { nil }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> { try decoder.container(keyedBy: type) }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { Unkeyed(decoder: decoder) }
        func superDecoder() throws -> any Decoder { decoder }
        func superDecoder(forKey key: Key) throws -> any Decoder { decoder }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let decoder: PlaceholderDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        var count: Int? { 0 }
        var isAtEnd: Bool { true }
        var currentIndex: Int { 0 }
        mutating func decodeNil() throws -> Bool { true }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.collector.placeholder(type) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> { try decoder.container(keyedBy: type) }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { self }
        mutating func superDecoder() throws -> any Decoder { decoder }
    }

    struct Single: SingleValueDecodingContainer {
        let decoder: PlaceholderDecoder
        var codingPath: [any CodingKey] { decoder.codingPath }
        func decodeNil() -> Bool { true }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.collector.placeholder(type) }
    }
}
