/// Which function answers a method and path, by API Gateway's rule: the most specific pattern wins.
public struct RouteTable: Sendable {
    /// One HTTP route.
    public struct Route: Sendable {
        public var method: String
        public var pattern: RoutePattern
        public var function: String
        public var service: String

        /// API Gateway's route key, such as `GET /jobs/{id}`.
        public var key: String { "\(method) \(pattern)" }
    }

    /// The outcome of a lookup.
    public enum Match: Sendable, Equatable {
        case function(String, parameters: [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    public private(set) var routes: [Route]
    /// First path segment → owning service.
    public private(set) var segments: [String: String]
    /// Function → its route key, for the events the runner builds.
    public private(set) var routeKeys: [String: String]

    public init(manifest: Manifest) {
        routes = manifest.functions.compactMap { function in
            guard case .http(let method, let pattern) = function.trigger else { return nil }
            return Route(method: method, pattern: pattern, function: function.name, service: function.service)
        }
        segments = [:]
        routeKeys = Dictionary(routes.map { ($0.function, $0.key) }) { first, _ in first }
        for route in routes {
            if let segment = route.pattern.firstLiteral { segments[segment] = route.service }
        }
        for service in manifest.services {
            if let path = service.websocketPath, let segment = try? RoutePattern(path).firstLiteral {
                segments[segment] = service.name
            }
        }
    }

    /// The service owning the first segment of `path`.
    public func service(forPath path: String) -> String? {
        let first = path.dropFirst().split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first
        return first.flatMap { segments[String($0)] }
    }

    /// Finds the route of `method` and `path` among `service`'s routes.
    public func match(method: String, path: String, service: String) -> Match {
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var best: (route: Route, parameters: [String: String], rank: [Int])?
        var allowed = Set<String>()
        for route in routes where route.service == service {
            guard let (parameters, rank) = route.pattern.match(parts) else { continue }
            guard route.method == method || (method == "HEAD" && route.method == "GET") else {
                allowed.insert(route.method)
                continue
            }
            if best.map({ $0.rank.lexicographicallyPrecedes(rank) }) ?? true {
                best = (route, parameters, rank)
            }
        }
        if let best { return .function(best.route.function, parameters: best.parameters) }
        if !allowed.isEmpty { return .methodNotAllowed(allowed: allowed.sorted()) }
        return .notFound
    }
}
