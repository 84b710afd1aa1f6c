import Foundation
import Blytz

/// Who is calling: the verified subject of a bearer token.
public struct Caller: Sendable, Equatable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        case va
        case company
        case admin
    }

    public var userId: String
    public var role: Role
    /// The bearer token itself, passed on to other services on the caller's behalf.
    public var token: String

    public init(userId: String, role: Role, token: String) {
        self.userId = userId
        self.role = role
        self.token = token
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
