import AsyncHTTPClient
import BlytzManifest
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Forwards what the monolith still owns (the manifest's `legacy` prefixes) to it unchanged: method, path
/// and query, headers, body and status, as a reverse proxy does (hop-by-hop headers dropped, the
/// `X-Forwarded-*` headers added, redirects passed back to the client rather than followed).
final class LegacyProxy: Service, Sendable {
    let legacy: LegacyUpstream
    /// The monolith's base URL: the manifest's, or `BLYTZ_LEGACY_URL` where it is set.
    let upstream: String
    private let client: HTTPClient

    /// Headers that describe one connection, not the request (RFC 9110, 7.6.1).
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authorization", "proxy-authenticate"]

    init(legacy: LegacyUpstream, environment: [String: String], group: any EventLoopGroup) {
        self.legacy = legacy
        let override = environment["BLYTZ_LEGACY_URL"].flatMap { $0.isEmpty ? nil : $0 }
        self.upstream = (override ?? legacy.upstream).hasSuffix("/") ? String((override ?? legacy.upstream).dropLast()) : (override ?? legacy.upstream)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(60)))
        configuration.decompression = .disabled
        self.client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    /// Shuts the client down once the listeners have stopped.
    func run() async throws {
        try? await gracefulShutdown()
        try? await client.shutdown()
    }

    func forward(_ request: Request, peer: String?) async -> Response {
        var outgoing = HTTPClientRequest(url: upstream + (request.uri.string.hasPrefix("/") ? request.uri.string : "/" + request.uri.string))
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        let connectionTokens = Set(request.headers[values: .connection].flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } })
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) && !connectionTokens.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        let forwardedFor = [request.headers[.xForwardedFor], peer].compactMap { $0 }.joined(separator: ", ")
        if !forwardedFor.isEmpty { outgoing.headers.replaceOrAdd(name: "X-Forwarded-For", value: forwardedFor) }
        if let host = request.head.authority { outgoing.headers.replaceOrAdd(name: "X-Forwarded-Host", value: host) }
        outgoing.headers.replaceOrAdd(name: "X-Forwarded-Proto", value: request.headers[.xForwardedProto] ?? "http")
        let length = request.headers[.contentLength].flatMap(Int64.init)
        if length.map({ $0 > 0 }) ?? (request.headers[.transferEncoding] != nil) {
            outgoing.body = .stream(request.body, length: length.map { .known($0) } ?? .unknown)
        }
        do {
            let response = try await client.execute(outgoing, timeout: .seconds(60))
            var headers = HTTPFields()
            for header in response.headers where !Self.hopByHop.contains(header.name.lowercased()) {
                if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
            }
            return Response(status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase), headers: headers, body: ResponseBody(asyncSequence: response.body))
        } catch {
            return EventMapping.problem(502, "The legacy backend at \(upstream) did not answer: \(error).")
        }
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}
