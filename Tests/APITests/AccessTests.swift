import Blytz
import BlytzData
import BlytzEvents
import BlytzManifest
import BlytzServices
import BlytzTesting
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// Who may call a route is decided before its body is read, for every HTTP function of the manifest: a
/// caller the route does not admit — anonymous, a person of another role, a service on its own — gets
/// 401, 403 or 404 whether it sends no body, a malformed one, or one that looks valid.
@Suite(.timeLimit(.minutes(10))) struct AccessTests {
    /// The routes open to anyone. A new open route must be added here on purpose.
    static let open: Set<String> = [
        "users-register", "users-login", "users-refresh", "users-password-forgot", "users-password-reset", "users-email-verify",
        "users-jwks", "users-service-token", "marketplace-jobs-categories", "payments-webhooks", "files-content",
    ]

    struct Route: Sendable {
        var name: String
        var method: HTTPMethod
        var path: String
        var bearer: Bool
        var roles: [String]?
        var services: [String]?
        var body: String?
    }

    /// A caller to try: its token, and what it is.
    struct Attempt: Sendable {
        var who: String
        var token: String?
        var role: Role?
        var service: ServiceName?
    }

    /// What the concurrent attempts found.
    final class Results: Sendable {
        let failures = Mutex<[String]>([])
        let tried = Atomic<Int>(0)
    }

    static func routes() throws -> [Route] {
        let file = NSTemporaryDirectory() + "openapi-\(UUID().uuidString).json"
        let written = try blytz(["openapi", "--output", file])
        guard written.status == 0 else { throw TestSetupError(description: written.output) }
        guard let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any],
              let paths = document["paths"] as? [String: [String: Any]] else { throw TestSetupError(description: "no paths") }
        let components = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        var routes: [Route] = []
        for (template, operations) in paths {
            // Every path parameter names something that does not exist: the route's own checks are what answer.
            let path = template.split(separator: "/").map { $0.hasPrefix("{") ? UUID().uuidString.lowercased() : String($0) }.joined(separator: "/")
            for (method, operation) in operations {
                guard let operation = operation as? [String: Any], let name = operation["operationId"] as? String else { continue }
                let security = operation["security"] as? [[String: Any]] ?? []
                let access = operation["x-access"] as? [String: Any]
                let schema = ((((operation["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"])
                routes.append(Route(
                    name: name, method: HTTPMethod(rawValue: method.uppercased()), path: "/" + path, bearer: !security.isEmpty,
                    roles: access?["roles"] as? [String], services: access?["services"] as? [String],
                    body: schema.flatMap { example($0, components: components, depth: 0) }.flatMap { try? JSONSerialization.data(withJSONObject: $0) }
                        .map { String(decoding: $0, as: UTF8.self) }
                ))
            }
        }
        return routes.sorted { $0.name < $1.name }
    }

    /// A value that satisfies `schema` as far as its shape goes: every property, with a plausible value.
    static func example(_ schema: Any, components: [String: Any], depth: Int) -> Any? {
        guard depth < 6, let schema = schema as? [String: Any] else { return nil }
        if let reference = schema["$ref"] as? String, let name = reference.split(separator: "/").last {
            return components[String(name)].flatMap { example($0, components: components, depth: depth + 1) }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let choices = schema[key] as? [Any], let first = choices.first { return example(first, components: components, depth: depth + 1) }
        }
        if let choices = schema["enum"] as? [Any], let first = choices.first { return first }
        let type = (schema["type"] as? String) ?? ((schema["type"] as? [String])?.first { $0 != "null" }) ?? "object"
        switch type {
        case "object":
            let properties = schema["properties"] as? [String: Any] ?? [:]
            return properties.compactMapValues { example($0, components: components, depth: depth + 1) }
        case "array":
            return [schema["items"].flatMap { example($0, components: components, depth: depth + 1) }].compactMap { $0 }
        case "integer": return (schema["minimum"] as? Int).map { max($0, 1) } ?? 100
        case "number": return 1.5
        case "boolean": return true
        default:
            switch schema["format"] as? String {
            case "uuid": return UUID().uuidString.lowercased()
            case "email": return "someone@example.com"
            case "date-time": return "2026-01-01T10:00:00Z"
            case "date": return "2026-01-01"
            default: return (schema["minLength"] as? Int).map { String(repeating: "a", count: max($0, 3)) } ?? "something valid"
            }
        }
    }

    static func admits(_ route: Route, _ attempt: Attempt) -> Bool {
        guard route.bearer else { return true }
        guard attempt.token != nil else { return false }
        if route.roles == nil && route.services == nil { return true }
        if let role = attempt.role, route.roles?.contains(role.rawValue) ?? true { return true }
        if let service = attempt.service, route.services?.contains(service.rawValue) ?? true { return true }
        return false
    }

    @Test func everyRouteDecidesWhoMayCallItBeforeReadingTheBody() async throws {
        let routes = try Self.routes()
        let manifest = try Manifest.load(path: "functions.yaml")
        let httpFunctions = manifest.functions.filter { if case .http = $0.trigger { true } else { false } }.map(\.name)
        #expect(Set(routes.map(\.name)) == Set(httpFunctions), "every HTTP function of the manifest is tried")
        // A route is open only on purpose.
        #expect(Set(routes.filter { !$0.bearer }.map(\.name)) == Self.open)

        try await Backend.with(.sqlite) { api in
            let users = try #require(api.runner.urls.services["users"])
            let key = try String(contentsOfFile: api.runner.dataDirectory + "/service-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            func serviceToken(_ service: ServiceName) async throws -> String {
                let body = String(decoding: try JSON.encoder().encode(ServiceTokenRequest(service: service, secret: ServiceSecret.derive(service, key: key), actingFor: nil)), as: UTF8.self)
                return try await api.runner.post("/auth/service-token", json: body, base: users).json(ServiceToken.self).accessToken
            }
            var attempts = [Attempt(who: "anonymous", token: nil)]
            for role in ["va", "company"] {
                attempts.append(Attempt(who: role, token: try await api.register(role).accessToken, role: Role(rawValue: role)))
            }
            attempts.append(Attempt(who: "admin", token: try await api.admin().accessToken, role: .admin))
            for service in [ServiceName.files, .contracts] {
                attempts.append(Attempt(who: "the \(service.rawValue) service", token: try await serviceToken(service), role: .service, service: service))
            }

            let results = Results()
            let runner = api.runner
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for route in routes {
                    for attempt in attempts where !Self.admits(route, attempt) {
                        // No body, a malformed one, and one that looks valid.
                        for body in [nil, "{\"unterminated", route.body ?? "{}"] {
                            if running >= 4 { try await group.next(); running -= 1 }
                            running += 1
                            group.addTask {
                                var headers = ["content-type": "application/json"]
                                if let token = attempt.token { headers["authorization"] = "Bearer \(token)" }
                                let reply = try await runner.request(route.method, "/api" + route.path, headers: headers, body: body.map { Data($0.utf8) })
                                results.tried.add(1, ordering: .relaxed)
                                let allowed: Set<Int> = attempt.token == nil ? [401] : [401, 403, 404]
                                if !allowed.contains(reply.status) {
                                    results.failures.withLock { $0.append("\(route.name) (\(route.method) \(route.path)) as \(attempt.who) with body \(body ?? "none"): \(reply.status) \(reply.text.prefix(200))") }
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let found = results.failures.withLock { $0 }
            #expect(found.isEmpty, "\(found.count) answers told a caller who may not call more than 401/403/404:\n\(found.sorted().joined(separator: "\n"))")
            let tried = results.tried.load(ordering: .relaxed)
            #expect(tried > routes.count * 3)
        }
    }
}
