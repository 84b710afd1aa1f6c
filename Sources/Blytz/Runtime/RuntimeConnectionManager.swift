import NIOCore
import NIOHTTP1

/// Talks to the WebSocket management endpoint (`POST`/`DELETE /@connections/{id}`) the runner serves.
struct RuntimeConnectionManager: ConnectionManager {
    let endpoint: String?
    let group: any EventLoopGroup

    func post(_ data: Data, to connectionId: String) async throws {
        try await send(.POST, connectionId, body: ByteBuffer(data: data))
    }

    func close(_ connectionId: String) async throws {
        try await send(.DELETE, connectionId, body: nil)
    }

    private func send(_ method: HTTPMethod, _ connectionId: String, body: ByteBuffer?) async throws {
        guard let endpoint, let url = endpoint.split(separator: "//").last, let (host, port) = FunctionRuntime.split(String(url)) else {
            throw ConnectionManagerError(status: 0)
        }
        let connection = try await HTTPClientConnection.connect(host: host, port: port, group: group)
        let response: HTTPClientConnection.Response
        do {
            response = try await connection.request(method, "/@connections/\(connectionId)", body: body)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
        switch response.status {
        case 200..<300: return
        case 410: throw ConnectionGone(connectionId: connectionId)
        default: throw ConnectionManagerError(status: response.status)
        }
    }
}
