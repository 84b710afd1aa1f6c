import AsyncHTTPClient
import Blytz
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

/// Pushes to WebSocket connections through API Gateway's management API
/// (`POST`/`DELETE {endpoint}/@connections/{id}`), signed with SigV4 for `execute-api`; 410 Gone is a
/// closed connection.
public struct APIGatewayConnections: ConnectionManager {
    /// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
    public let endpoint: String
    let signer: SigV4Signer
    let http: HTTPClient

    public init(endpoint: String, settings: AWSSettings, http: HTTPClient = .shared) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.signer = SigV4Signer(credentials: settings.credentials, region: settings.region, service: "execute-api")
        self.http = http
    }

    public func post(_ data: Data, to connectionId: String) async throws {
        try await send(.POST, connectionId, body: data)
    }

    public func close(_ connectionId: String) async throws {
        try await send(.DELETE, connectionId, body: nil)
    }

    private func send(_ method: HTTPMethod, _ connectionId: String, body: Data?) async throws {
        let components = URLComponents(string: endpoint)
        var host = components?.host ?? ""
        if let port = components?.port { host += ":\(port)" }
        // As AWS's SDKs send it: `@` as it is, the id percent-encoded.
        let path = (components?.path ?? "") + "/@connections/" + SigV4Signer.encode(connectionId)
        let payload = body ?? Data()
        let signed = signer.signingHeaders(
            for: .init(method: method.rawValue, path: path, headers: [("host", host)], verbatimPath: true),
            payloadHash: SigV4Signer.hex(SigV4Signer.sha256(payload)), date: Date()
        )
        var request = HTTPClientRequest(url: "\(components?.scheme ?? "https")://\(host)\(path)")
        request.method = method
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        if body != nil { request.body = .bytes(ByteBuffer(bytes: payload)) }
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try? await response.body.collect(upTo: 64 * 1024)
        switch Int(response.status.code) {
        case 200..<300: return
        case 410: throw ConnectionGone(connectionId: connectionId)
        default: throw ConnectionManagerError(status: Int(response.status.code))
        }
    }
}
