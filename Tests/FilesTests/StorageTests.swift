import BlytzObjects
import Foundation
import SigV4
import NIOHTTP1
import Testing

/// One suite, both backends: the local directory and S3 (moto's server, signatures checked).
@Suite struct StorageTests {
    enum Backend: String, CaseIterable { case local, s3 }

    func with(_ backend: Backend, checkingSignatures: Bool = true, _ body: (any ObjectStorage) async throws -> Void) async throws {
        switch backend {
        case .local:
            let directory = NSTemporaryDirectory() + "blytz-objects-\(newId())"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await body(LocalDirectoryStorage(
                dataDirectory: directory, bucket: "files", endpoint: "http://127.0.0.1:9/_local/objects",
                credentials: LocalObjects.credentials(serviceKey: "test-key")
            ))
        case .s3:
            try await Moto.with(checkingSignatures: checkingSignatures) { server in
                let storage = server.storage()
                try await storage.createBucket()
                try await body(storage)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func writesReadsRangesListsAndDeletes(backend: Backend) async throws {
        try await with(backend) { storage in
            let key = try #require(ObjectKey("users/\(newId())/first"))
            let other = try #require(ObjectKey("users/\(newId())/second"))
            #expect(try await storage.head(key) == nil)
            await #expect(throws: ObjectStorageError.notFound(key.value)) { try await storage.get(key, range: nil) }

            let bytes = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            try await storage.put(key, data: bytes, contentType: "application/octet-stream")
            try await storage.put(other, data: Data("second".utf8), contentType: "text/plain")
            #expect(try await storage.head(key)?.size == bytes.count)
            #expect(try await storage.get(key, range: nil) == bytes)
            #expect(try await storage.get(key, range: 0...9) == bytes.prefix(10))
            #expect(try await storage.get(key, range: 500...1499) == bytes[500...1499])
            #expect(try await storage.get(key, range: 99_990...99_999) == bytes.suffix(10))

            let chunks = Chunks()
            try await storage.read(key) { await chunks.add($0) }
            #expect(await chunks.data == bytes)

            // A second write replaces the object whole.
            try await storage.put(key, data: Data("replaced".utf8), contentType: "text/plain")
            #expect(try await storage.get(key, range: nil) == Data("replaced".utf8))

            #expect(try await storage.list(prefix: "users/").sorted() == [key, other].sorted())
            #expect(try await storage.list(prefix: key.value.components(separatedBy: "/").dropLast().joined(separator: "/") + "/") == [key])
            try await storage.delete(key)
            try await storage.delete(key)
            #expect(try await storage.head(key) == nil)
            #expect(try await storage.list(prefix: "users/") == [other])
        }
    }

    @Test(arguments: Backend.allCases)
    func presignedURLsAreSignedForOneMethodAndKey(backend: Backend) async throws {
        try await with(backend, checkingSignatures: false) { storage in
            let key = try #require(ObjectKey("users/\(newId())/presigned"))
            let now = Date()
            let put = storage.presignedURL(.put, key, expires: 600, now: now)
            let query = try #require(URLComponents(string: put)?.queryItems)
            #expect(query.first { $0.name == "X-Amz-Expires" }?.value == "600")
            #expect(query.first { $0.name == "X-Amz-SignedHeaders" }?.value == "host")
            #expect(query.last?.name == "X-Amz-Signature")
            guard backend == .s3 else { return }
            // The real server takes the PUT and the GET at the URLs given (the runner's endpoint, tested through
            // the runner, refuses a URL of another method, key or expiry).
            #expect(try await send(.PUT, put, body: Data("through a presigned URL".utf8)).status == 200)
            let get = storage.presignedURL(.get, key, expires: 600, now: now)
            #expect(try await send(.GET, get).body == Data("through a presigned URL".utf8))
            #expect(try await send(.GET, get, headers: ["Range": "bytes=10-18"]).body == Data("presigned".utf8))
        }
    }

    @Test func theS3ServerChecksSignatures() async throws {
        try await Moto.with { server in
            let storage = server.storage()
            try await storage.createBucket()
            let key = try #require(ObjectKey("signed"))
            try await storage.put(key, data: Data("x".utf8), contentType: "text/plain")
            let forged = server.storage(bucket: storage.settings.bucket, credentials: AWSCredentials(accessKeyId: server.credentials.accessKeyId, secretAccessKey: "wrong"))
            await #expect(throws: ObjectStorageError.self) { try await forged.get(key, range: nil) }
            await #expect(throws: ObjectStorageError.self) { try await forged.put(key, data: Data("y".utf8), contentType: "text/plain") }
            #expect(try await storage.get(key, range: nil) == Data("x".utf8))
        }
    }

    @Test func keysCannotLeaveTheirDirectory() {
        for bad in ["", "/a", "a/", "a//b", "../a", "a/../b", "a/./b", ".hidden", "a/.staging/b", "a b", "a\\b", "ü", String(repeating: "a", count: 513)] {
            #expect(ObjectKey(bad) == nil, "\(bad)")
        }
        for good in ["a", "users/1f0c/2b9e", "a.b-c_d/E9"] { #expect(ObjectKey(good) != nil) }
    }

    @Test func aLocalWriteCutShortLeavesNothing() async throws {
        let directory = NSTemporaryDirectory() + "blytz-objects-\(newId())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = LocalDirectoryStorage(dataDirectory: directory, bucket: "files", endpoint: "", credentials: LocalObjects.credentials(serviceKey: "k"))
        let key = try #require(ObjectKey("users/u/cut"))
        struct Cut: Error {}
        let chunks = AsyncThrowingStream<Data, any Error> { continuation in
            continuation.yield(Data(repeating: 1, count: 1000))
            continuation.finish(throwing: Cut())
        }
        await #expect(throws: Cut.self) { try await storage.write(key, chunks: chunks, limit: 1 << 20) }
        #expect(try await storage.head(key) == nil)
        #expect(try await storage.list(prefix: "").isEmpty)
        let staging = (try? FileManager.default.contentsOfDirectory(atPath: storage.root + "/.staging")) ?? []
        #expect(staging.isEmpty)
        // Too much is refused the same way.
        let big = AsyncStream<Data> { continuation in
            for _ in 0..<3 { continuation.yield(Data(repeating: 2, count: 1000)) }
            continuation.finish()
        }
        await #expect(throws: LocalDirectoryStorage.TooLarge.self) { try await storage.write(key, chunks: big, limit: 2500) }
        #expect(try await storage.head(key) == nil)
    }
}

actor Chunks {
    var data = Data()
    func add(_ chunk: Data) { data.append(chunk) }
}
