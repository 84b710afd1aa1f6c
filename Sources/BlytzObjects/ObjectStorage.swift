import Foundation

/// Where a service keeps its objects (the files service's uploads): a local directory or S3-compatible
/// storage, behind one interface that one test suite holds both to.
public protocol ObjectStorage: Sendable {
    /// Stores `data` under `key`, whole or not at all (a reader never sees part of it).
    func put(_ key: ObjectKey, data: Data, contentType: String) async throws
    /// The bytes of `key` (or of `range` of them, inclusive offsets within the object); throws
    /// `ObjectStorageError.notFound`.
    func get(_ key: ObjectKey, range: ClosedRange<Int>?) async throws -> Data
    /// Reads `key` in order, a chunk at a time (for hashing an object too large to hold).
    func read(_ key: ObjectKey, chunk: @Sendable (Data) async throws -> Void) async throws
    /// The object's size and modification time; nil when there is none.
    func head(_ key: ObjectKey) async throws -> ObjectInfo?
    /// Removes `key`; removing what is not there is not an error.
    func delete(_ key: ObjectKey) async throws
    /// The keys under `prefix`.
    func list(prefix: String) async throws -> [ObjectKey]
    /// A URL anyone holding it may use for `expires` seconds to GET or PUT `key`, with S3's presigned semantics.
    func presignedURL(_ method: PresignedMethod, _ key: ObjectKey, expires: Int, now: Date) -> String
}

public enum PresignedMethod: String, Sendable { case get = "GET", put = "PUT" }

public struct ObjectInfo: Sendable, Equatable {
    public var size: Int
    public var modified: Date

    public init(size: Int, modified: Date) {
        self.size = size
        self.modified = modified
    }
}

public enum ObjectStorageError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let key): "no object \(key)"
        case .unavailable(let reason): "object storage unavailable: \(reason)"
        }
    }
}

/// An object's key: segments of letters, digits, `.`, `-` and `_` joined by `/`, none of them `.` or
/// `..`, so a key can never name a place outside its bucket or directory.
public struct ObjectKey: Sendable, Hashable, CustomStringConvertible, Comparable {
    public let value: String

    public init?(_ value: String) {
        let segments = value.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...512).contains(value.utf8.count), !segments.isEmpty, segments.allSatisfy({ segment in
            !segment.isEmpty && segment != "." && segment != ".." && !segment.hasPrefix(".")
                && segment.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                }
        }) else { return nil }
        self.value = value
    }

    public var description: String { value }
    public static func < (a: ObjectKey, b: ObjectKey) -> Bool { a.value < b.value }
}
