import Foundation
import AsyncHTTPClient
import Blytz
import BlytzEvents
import JWTKit
import NIOCore
import NIOHTTP1

/// The user service's public keys, fetched from its `GET /auth/jwks`, cached for `maxAge`, and fetched
/// again when a token names a key id the cached copy lacks (at most once per `minimumRefreshInterval`,
/// so a flood of made-up key ids cannot turn into a flood of fetches).
public actor JWKSKeySource: SigningKeySource {
    let url: String
    let http: HTTPClient
    let maxAge: Duration
    let minimumRefreshInterval: Duration
    private var cached: (keys: SigningKeys, fetchedAt: ContinuousClock.Instant)?
    private var inFlight: Task<SigningKeys, any Error>?

    public init(url: String, http: HTTPClient, maxAge: Duration = .seconds(600), minimumRefreshInterval: Duration = .milliseconds(200)) {
        self.url = url
        self.http = http
        self.maxAge = maxAge
        self.minimumRefreshInterval = minimumRefreshInterval
    }

    public func signingKeys(refresh: Bool) async throws -> SigningKeys {
        let now = ContinuousClock.now
        if let cached {
            let age = cached.fetchedAt.duration(to: now)
            if age < maxAge && (!refresh || age < minimumRefreshInterval) { return cached.keys }
        }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await fetch() }
        inFlight = task
        defer { inFlight = nil }
        let keys = try await task.value
        cached = (keys, ContinuousClock.now)
        return keys
    }

    private func fetch() async throws -> SigningKeys {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "accept", value: "application/json")
        let response = try await http.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw TokenRejected(description: "the key set could not be fetched (HTTP \(response.status.code))") }
        let body = try await response.body.collect(upTo: 1 << 20)
        return try await SigningKeys(jwks: try JSONDecoder().decode(JWKS.self, from: Data(buffer: body)))
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.withUnsafeReadableBytes { Data($0) }
    }
}
