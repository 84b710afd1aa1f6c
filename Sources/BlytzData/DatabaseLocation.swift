import Foundation

/// Where a service's database is: an SQLite file (the embedded default) or a PostgreSQL database.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// Why a location could not be worked out.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Resolves the database of `service` (named `database` in the manifest) from configuration:
    /// 1. `<SERVICE>_DATABASE_URL` — `postgres://…` or `sqlite:///path`;
    /// 2. `BLYTZ_DATABASE_URL` — a PostgreSQL server URL; the service's own database name replaces its path;
    /// 3. otherwise the SQLite file `<data directory>/<database>.sqlite`.
    public static func resolve(service: String, database: String, environment: [String: String], dataDirectory: String) throws(Invalid) -> DatabaseLocation {
        if let url = environment["\(service.uppercased())_DATABASE_URL"], !url.isEmpty {
            return try parse(url)
        }
        if let server = environment["BLYTZ_DATABASE_URL"], !server.isEmpty {
            guard var components = URLComponents(string: server), components.scheme?.hasPrefix("postgres") == true else {
                throw Invalid(description: "BLYTZ_DATABASE_URL must be a postgres:// URL")
            }
            components.path = "/\(database)"
            return .postgres(url: components.string ?? server)
        }
        return .sqlite(path: "\(dataDirectory)/\(database).sqlite")
    }

    public static func parse(_ url: String) throws(Invalid) -> DatabaseLocation {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return .postgres(url: url) }
        if url.hasPrefix("sqlite://") { return .sqlite(path: String(url.dropFirst("sqlite://".count))) }
        throw Invalid(description: "database URL '\(url)' is neither postgres:// nor sqlite://")
    }

    /// The location with any password hidden, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite://\(path)"
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "postgres://…" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "postgres://…"
        }
    }
}
