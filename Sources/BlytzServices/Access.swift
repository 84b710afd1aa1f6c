import Blytz
import BlytzEvents
import HTTPTypes

/// Who may call a route that needs a bearer token, declared beside its handler and checked by the SDK
/// before the body is read:
///
/// ```
/// static let access = Access.signedIn                                  // any person or service
/// static let access = Access.people(.company, detail: "Only companies post jobs.")
/// static let access = Access.services(.contracts).or(.people(.admin))
/// ```
/// A person is admitted by role (a service acting for a person carries that person's role); a service
/// on its own, by name. What a caller may then do with one resource (its owner, a contract's parties) is
/// the handler's to check, before it reads the body.
public struct Access: RouteAccess {
    /// The roles admitted; nil admits every role.
    let roles: Set<Role>?
    /// The services admitted by name; nil admits every service.
    let services: Set<ServiceName>?
    /// What a caller who is not admitted is told.
    let detail: String?

    /// Any valid token: a person of any role, or any service.
    public static let signedIn = Access(roles: nil, services: nil, detail: nil)

    /// Any person (a VA, a company or an admin), or a service acting for one; not a service on its own.
    public static let person = people(.va, .company, .admin)

    /// People with one of `roles`, or services acting for them.
    public static func people(_ roles: Role..., detail: String? = nil) -> Access {
        Access(roles: Set(roles), services: [], detail: detail)
    }

    /// `services`, on their own or acting for someone.
    public static func services(_ services: ServiceName..., detail: String? = nil) -> Access {
        Access(roles: [], services: Set(services), detail: detail)
    }

    /// Anyone, known by their token when they send one: a route whose answer depends on who asks, if
    /// anyone (a public file for all, a private one for its owner). A token that is sent must be valid.
    public static var anyoneKnown: AnyoneKnown { AnyoneKnown() }

    /// The callers either rule admits.
    public func or(_ other: Access) -> Access {
        Access(
            roles: roles.flatMap { mine in other.roles.map { mine.union($0) } },
            services: services.flatMap { mine in other.services.map { mine.union($0) } },
            detail: detail ?? other.detail
        )
    }

    /// Whether `caller` may call the route.
    public func admits(_ caller: Caller) -> Bool {
        if roles?.contains(caller.role) ?? true { return true }
        if let service = caller.service, services?.contains(service) ?? true { return true }
        return false
    }

    public func admit(_ headers: HTTPFields, context: FunctionContext) async throws -> Caller {
        let caller = try await context.caller(authorization: headers[.authorization])
        guard admits(caller) else { throw HTTPError.forbidden(detail ?? refusal) }
        return caller
    }

    public var declaration: AccessDeclaration {
        AccessDeclaration(bearer: true, roles: roles.map { $0.map(\.rawValue).sorted() }, services: services.map { $0.map(\.rawValue).sorted() })
    }

    private var refusal: String {
        let names = (roles ?? []).map(\.rawValue).sorted() + (services ?? []).map { "the \($0.rawValue) service" }.sorted()
        return "Only \(names.joined(separator: " or ")) may do this."
    }
}

/// The rule of `Access.anyoneKnown`: the handler receives the verified caller, or nil for an anonymous one.
public struct AnyoneKnown: RouteAccess {
    public func admit(_ headers: HTTPFields, context: FunctionContext) async throws -> Caller? {
        guard let authorization = headers[.authorization] else { return nil }
        return try await context.caller(authorization: authorization)
    }

    public var declaration: AccessDeclaration { .open }
}
