import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

/// Objects in an S3-compatible bucket, every request signed with SigV4 (the payload hashed for the
/// objects written, so the store checks what it received).
public struct S3Storage: ObjectStorage {
    public struct Settings: Sendable {
        /// `https://s3.us-east-1.amazonaws.com`, or a compatible server's address.
        public var endpoint: String
        public var bucket: String
        public var region: String
        /// `endpoint/bucket/key` rather than `bucket.endpoint/key` (most compatible servers want it).
        public var pathStyle: Bool
        public var credentials: AWSCredentials

        public init(endpoint: String, bucket: String, region: String, pathStyle: Bool, credentials: AWSCredentials) {
            self.endpoint = endpoint
            self.bucket = bucket
            self.region = region
            self.pathStyle = pathStyle
            self.credentials = credentials
        }
    }

    public let settings: Settings
    let http: HTTPClient
    let signer: SigV4Signer
    let timeout: TimeAmount

    public init(_ settings: Settings, http: HTTPClient, timeout: TimeAmount = .seconds(30)) {
        self.settings = settings
        self.http = http
        self.signer = SigV4Signer(credentials: settings.credentials, region: settings.region, service: "s3")
        self.timeout = timeout
    }

    /// The scheme-and-host, the host header, and the path of `key` (nil: the bucket itself).
    func location(_ key: ObjectKey?) -> (base: String, host: String, path: String) {
        let components = URLComponents(string: settings.endpoint)
        let scheme = components?.scheme ?? "https"
        var host = components?.host ?? ""
        if !settings.pathStyle { host = "\(settings.bucket).\(host)" }
        if let port = components?.port { host += ":\(port)" }
        let objectPath = key.map { "/" + $0.value.split(separator: "/").map { SigV4Signer.encode(String($0)) }.joined(separator: "/") } ?? "/"
        let path = settings.pathStyle ? "/\(settings.bucket)\(key == nil ? "" : objectPath)" : objectPath
        return ("\(scheme)://\(host)", host, path)
    }

    func send(
        _ method: HTTPMethod, _ key: ObjectKey?, query: [(name: String, value: String)] = [], headers extra: [(name: String, value: String)] = [],
        body: Data? = nil
    ) async throws -> HTTPClientResponse {
        let (base, host, path) = location(key)
        let payloadHash = SigV4Signer.hex(SigV4Signer.sha256(body ?? Data()))
        let headers = [("host", host)] + extra
        let signed = signer.signingHeaders(for: .init(method: method.rawValue, path: path, query: query, headers: headers), payloadHash: payloadHash, date: Date())
        var request = HTTPClientRequest(url: base + path + (query.isEmpty ? "" : "?" + SigV4Signer.queryString(query)))
        request.method = method
        for (name, value) in extra + signed { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            return try await http.execute(request, timeout: timeout)
        } catch {
            throw ObjectStorageError.unavailable("\(error)")
        }
    }

    func failure(_ response: HTTPClientResponse, _ key: ObjectKey?) async -> ObjectStorageError {
        if response.status == .notFound, let key { return .notFound(key.value) }
        let text = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
        return .unavailable("S3 answered \(response.status.code): \(text.prefix(300))")
    }

    /// Makes the bucket (a compatible server's, for tests and local setups); an existing one is fine.
    public func createBucket() async throws {
        let response = try await send(.PUT, nil)
        guard response.status == .ok || response.status == .conflict else { throw await failure(response, nil) }
        _ = try? await response.body.collect(upTo: 64 * 1024)
    }

    public func put(_ key: ObjectKey, data: Data, contentType: String) async throws {
        let response = try await send(.PUT, key, headers: [("content-type", contentType)], body: data)
        guard response.status == .ok else { throw await failure(response, key) }
        _ = try? await response.body.collect(upTo: 64 * 1024)
    }

    public func get(_ key: ObjectKey, range: ClosedRange<Int>?) async throws -> Data {
        let headers = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let response = try await send(.GET, key, headers: headers)
        guard response.status == .ok || response.status == .partialContent else { throw await failure(response, key) }
        return Data(try await response.body.collect(upTo: Int.max).readableBytesView)
    }

    public func read(_ key: ObjectKey, chunk: @Sendable (Data) async throws -> Void) async throws {
        let response = try await send(.GET, key)
        guard response.status == .ok else { throw await failure(response, key) }
        for try await buffer in response.body { try await chunk(Data(buffer.readableBytesView)) }
    }

    public func head(_ key: ObjectKey) async throws -> ObjectInfo? {
        let response = try await send(.HEAD, key)
        if response.status == .notFound { return nil }
        guard response.status == .ok else { throw await failure(response, key) }
        let size = response.headers.first(name: "content-length").flatMap(Int.init) ?? 0
        let modified = response.headers.first(name: "last-modified").flatMap(Self.httpDate) ?? Date()
        return ObjectInfo(size: size, modified: modified)
    }

    public func delete(_ key: ObjectKey) async throws {
        let response = try await send(.DELETE, key)
        guard [.noContent, .ok, .notFound].contains(response.status) else { throw await failure(response, key) }
    }

    public func list(prefix: String) async throws -> [ObjectKey] {
        var keys: [ObjectKey] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(.GET, nil, query: query)
            guard response.status == .ok else { throw await failure(response, nil) }
            let xml = String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
            keys += Self.elements("Key", in: xml).compactMap { ObjectKey(Self.unescape($0)) }
            token = Self.elements("NextContinuationToken", in: xml).first.map(Self.unescape)
        } while token != nil
        return keys.sorted()
    }

    public func presignedURL(_ method: PresignedMethod, _ key: ObjectKey, expires: Int, now: Date) -> String {
        let (base, host, path) = location(key)
        let query = signer.presignedQuery(for: .init(method: method.rawValue, path: path, headers: [("host", host)]), expires: expires, date: now)
        return "\(base)\(path)?\(SigV4Signer.queryString(query))"
    }

    // MARK: - Reading S3's answers

    /// The text of every `<name>…</name>` in a ListObjectsV2 answer (flat elements, no attributes).
    public static func elements(_ name: String, in xml: String) -> [String] {
        xml.components(separatedBy: "<\(name)>").dropFirst().compactMap { $0.components(separatedBy: "</\(name)>").first }
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
