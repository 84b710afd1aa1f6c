import Foundation
import SigV4

/// Objects as files under one directory (`<data>/objects/<bucket>`). A write goes to a temporary file in
/// the same directory tree and is renamed into place, so an object is whole or absent; keys cannot leave
/// the directory (`ObjectKey`). Presigned URLs point at the runner's local object endpoint.
public struct LocalDirectoryStorage: ObjectStorage {
    public let root: String
    public let bucket: String
    /// The runner's object endpoint (`http://127.0.0.1:3000/_local/objects`).
    public let endpoint: String
    let signer: SigV4Signer

    public init(dataDirectory: String, bucket: String, endpoint: String, credentials: AWSCredentials) {
        self.root = LocalObjects.directory(dataDirectory: dataDirectory, bucket: bucket)
        self.bucket = bucket
        self.endpoint = endpoint
        self.signer = SigV4Signer(credentials: credentials, region: LocalObjects.region, service: LocalObjects.service)
    }

    /// Where `key` is kept.
    public func path(_ key: ObjectKey) -> String { "\(root)/\(key.value)" }

    public func put(_ key: ObjectKey, data: Data, contentType: String) async throws {
        try await write(key) { handle in try handle.write(contentsOf: data) }
    }

    /// Writes `key` from `chunks` as they come (the runner's endpoint streams an upload this way); answers
    /// the bytes written. Nothing is visible under `key` until the last chunk is written.
    @discardableResult
    public func write<Chunks: AsyncSequence>(_ key: ObjectKey, chunks: Chunks, limit: Int) async throws -> Int where Chunks.Element == Data {
        var written = 0
        try await write(key) { handle in
            for try await chunk in chunks {
                written += chunk.count
                guard written <= limit else { throw TooLarge(limit: limit) }
                try handle.write(contentsOf: chunk)
            }
        }
        return written
    }

    public struct TooLarge: Error { public var limit: Int }

    private func write(_ key: ObjectKey, _ body: (FileHandle) async throws -> Void) async throws {
        let staging = "\(root)/.staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let temporary = "\(staging)/\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) , let handle = FileHandle(forWritingAtPath: temporary) else {
            throw ObjectStorageError.unavailable("cannot create \(temporary)")
        }
        do {
            try await body(handle)
            try handle.synchronize()
            try handle.close()
            let target = path(key)
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard rename(temporary, target) == 0 else { throw ObjectStorageError.unavailable("rename failed: errno \(errno)") }
        } catch {
            try? handle.close()
            unlink(temporary)
            throw error
        }
    }

    public func get(_ key: ObjectKey, range: ClosedRange<Int>?) async throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path(key)) else { throw ObjectStorageError.notFound(key.value) }
        defer { try? handle.close() }
        guard let range else { return try handle.readToEnd() ?? Data() }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        return try handle.read(upToCount: range.count) ?? Data()
    }

    public func read(_ key: ObjectKey, chunk: @Sendable (Data) async throws -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: path(key)) else { throw ObjectStorageError.notFound(key.value) }
        defer { try? handle.close() }
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { try await chunk(data) }
    }

    /// A handle on `key` for reading, for the runner's endpoint to stream from; nil when there is none.
    public func open(_ key: ObjectKey) -> FileHandle? { FileHandle(forReadingAtPath: path(key)) }

    public func head(_ key: ObjectKey) async throws -> ObjectInfo? {
        var status = stat()
        guard stat(path(key), &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        let modified = Date(timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec))
        return ObjectInfo(size: Int(status.st_size), modified: modified)
    }

    public func delete(_ key: ObjectKey) async throws {
        let target = path(key)
        guard unlink(target) == 0 || errno == ENOENT else { throw ObjectStorageError.unavailable("unlink failed: errno \(errno)") }
        // Empty parent directories go too, up to the bucket's.
        var directory = (target as NSString).deletingLastPathComponent
        while directory.count > root.count, rmdir(directory) == 0 { directory = (directory as NSString).deletingLastPathComponent }
    }

    public func list(prefix: String) async throws -> [ObjectKey] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var keys: [ObjectKey] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasPrefix(prefix), let key = ObjectKey(relative), (try? await head(key)) != nil else { continue }
            keys.append(key)
        }
        return keys.sorted()
    }

    public func presignedURL(_ method: PresignedMethod, _ key: ObjectKey, expires: Int, now: Date) -> String {
        let base = URLComponents(string: endpoint)
        let host = base.map { components in components.port.map { "\(components.host ?? ""):\($0)" } ?? (components.host ?? "") } ?? ""
        let path = "\(base?.path ?? LocalObjects.pathPrefix)/\(bucket)/\(key.value)"
        let query = signer.presignedQuery(for: .init(method: method.rawValue, path: path, headers: [("host", host)]), expires: expires, date: now)
        return "\(endpoint)/\(bucket)/\(key.value)?\(SigV4Signer.queryString(query))"
    }
}
