/// Pushes data to WebSocket connections the runner (or API Gateway) holds, by connection id.
public protocol ConnectionManager: Sendable {
    /// Sends `data` to the connection; text when it is UTF-8. Throws `ConnectionGone` for a closed connection.
    func post(_ data: Data, to connectionId: String) async throws
    /// Closes the connection.
    func close(_ connectionId: String) async throws
}

/// The connection no longer exists (API Gateway's `GoneException`, HTTP 410).
public struct ConnectionGone: Error, Sendable, Equatable {
    public var connectionId: String

    public init(connectionId: String) {
        self.connectionId = connectionId
    }
}

/// The management endpoint answered something other than success.
public struct ConnectionManagerError: Error, Sendable, Equatable {
    public var status: Int

    public init(status: Int) {
        self.status = status
    }
}
