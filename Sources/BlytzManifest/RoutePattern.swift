/// A path pattern such as `/jobs/{id}` or `/files/{key+}`: literals, named parameters, a greedy tail.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
        /// `{name+}`: the rest of the path, one or more segments; last only.
        case greedy(String)
    }

    /// Why a pattern was refused.
    public struct Invalid: Error, Sendable {
        public var reason: String
    }

    public var segments: [Segment]

    public init(_ text: String) throws(Invalid) {
        guard text.hasPrefix("/") else { throw Invalid(reason: "'\(text)' must start with /") }
        var segments: [Segment] = []
        var names = Set<String>()
        let parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if part.isEmpty {
                if parts.count == 1 { break }
                throw Invalid(reason: "'\(text)' has an empty segment")
            }
            if part.hasPrefix("{") && part.hasSuffix("}") {
                var name = String(part.dropFirst().dropLast())
                let isGreedy = name.hasSuffix("+")
                if isGreedy { name.removeLast() }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw Invalid(reason: "'\(part)' in '\(text)' is not a valid parameter name")
                }
                guard names.insert(name).inserted else { throw Invalid(reason: "parameter '\(name)' appears twice in '\(text)'") }
                if isGreedy && index != parts.count - 1 {
                    throw Invalid(reason: "greedy parameter '\(name)+' must be the last segment of '\(text)'")
                }
                segments.append(isGreedy ? .greedy(name) : .parameter(name))
            } else if part.contains("{") || part.contains("}") {
                throw Invalid(reason: "'\(part)' in '\(text)' mixes a parameter with text")
            } else {
                segments.append(.literal(String(part)))
            }
        }
        self.segments = segments
    }

    public var description: String {
        "/" + segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter(let name): "{\(name)}"
            case .greedy(let name): "{\(name)+}"
            }
        }.joined(separator: "/")
    }

    /// The pattern with parameter names erased: two patterns of one shape match exactly the same paths.
    public var shape: String {
        "/" + segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter: "{}"
            case .greedy: "{+}"
            }
        }.joined(separator: "/")
    }

    /// The first segment when it is a literal: the segment the gateway routes on.
    public var firstLiteral: String? {
        if case .literal(let text) = segments.first { return text }
        return nil
    }

    /// Matches `path` segments, returning the parameters and a rank (higher is more specific).
    public func match(_ path: [Substring]) -> (parameters: [String: String], rank: [Int])? {
        var parameters: [String: String] = [:]
        var rank: [Int] = []
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .literal(let text):
                guard index < path.count, path[index] == text else { return nil }
                rank.append(2)
            case .parameter(let name):
                guard index < path.count, !path[index].isEmpty else { return nil }
                parameters[name] = String(path[index])
                rank.append(1)
            case .greedy(let name):
                guard index < path.count else { return nil }
                parameters[name] = path[index...].joined(separator: "/")
                rank.append(0)
                return (parameters, rank)
            }
        }
        return path.count == segments.count ? (parameters, rank) : nil
    }
}
