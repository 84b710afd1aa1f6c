import Foundation
import Blytz
import BlytzEvents

/// Who is calling: the verified subject of a bearer token — a person, or a service (on its own, or acting
/// for a person, whose id and role it then carries).
public struct Caller: Sendable, Equatable {
    public typealias Role = BlytzEvents.Role

    /// The person's id; `service:<name>` for a service on its own.
    public var userId: String
    public var role: Role
    /// The calling service, when a service's token was sent.
    public var service: ServiceName?
    /// The bearer token itself, passed on to other services on the caller's behalf.
    public var token: String

    public init(userId: String, role: Role, service: ServiceName? = nil, token: String) {
        self.userId = userId
        self.role = role
        self.service = service
        self.token = token
    }

    /// The subject of a service's own token.
    public static func serviceSubject(_ service: ServiceName) -> String { "service:\(service.rawValue)" }

    /// Throws 403 unless one of `services` is calling: a route only those services may use (a person's own
    /// token, whatever its role, is refused).
    public func requireService(_ services: ServiceName..., detail: String? = nil) throws(HTTPError) {
        guard let service, services.contains(service) else {
            throw .forbidden(detail ?? "Only the \(services.map(\.rawValue).joined(separator: " or ")) service may do this.")
        }
    }

    public var isAdmin: Bool { role == .admin }

    /// Throws 403 unless the caller has one of `roles`.
    public func require(_ roles: Role..., detail: String? = nil) throws(HTTPError) {
        guard roles.contains(role) else {
            throw .forbidden(detail ?? "This needs the role \(roles.map(\.rawValue).joined(separator: " or ")).")
        }
    }

    /// Throws 403 unless the caller is `userId` or an admin.
    public func requireSelfOrAdmin(_ userId: String) throws(HTTPError) {
        guard self.userId == userId || isAdmin else { throw .forbidden("Only the user themself or an admin may do this.") }
    }
}

extension String {
    /// Whether this is a UUID, as every id is.
    public var isUUID: Bool { UUID(uuidString: self) != nil }
}

extension QueryReader {
    /// A UUID filter such as `?contractId=`, lowercased; a value that is not one is recorded as an error.
    public mutating func uuid(_ name: String) -> String? {
        declare(name, ["type": "string", "format": "uuid"])
        guard let text = text(name) else { return nil }
        guard text.isUUID else {
            errors.append(.init(field: name, message: "must be a UUID"))
            return nil
        }
        return text.lowercased()
    }
}
