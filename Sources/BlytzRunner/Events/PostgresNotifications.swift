import BlytzData
import Logging
import NIOPosix
import PostgresKit

/// PostgreSQL `LISTEN` on a connection of its own, for the parts of a runner that hear from other replicas.
enum PostgresNotifications {
    /// Calls `heard` with the payload of every notification on `channel` until cancelled, reconnecting
    /// after a lost connection; returns at once for a database that is not PostgreSQL.
    static func listen(to location: DatabaseLocation, channel: String, logger: Logger, heard: @escaping @Sendable (String) -> Void) async {
        guard case .postgres(let url) = location, let configuration = try? SQLPostgresConfiguration(url: url) else { return }
        var id = 0
        while !Task.isCancelled {
            id += 1
            do {
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration.coreConfiguration, id: id, logger: logger
                ).get()
                do {
                    try await connection.listen(on: channel) { notifications in
                        for try await notification in notifications { heard(notification.payload) }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                logger.warning("listener disconnected; reconnecting", metadata: ["channel": "\(channel)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
