import Blytz
import BlytzEvents

/// The OpenAPI 3.1 document of every HTTP function of a manifest: paths and methods from the manifest,
/// access and body schemas from what each service's executable describes of its handlers (the schemas
/// come from the handlers' Codable `Input` and `Output` types), problem+json for every error.
public enum OpenAPIDocument {
    /// The document for `manifest`, with `descriptions` by service name (`ServiceDescription.read`).
    /// A function whose service is not described still appears, with its path, method and errors.
    public static func build(_ manifest: Manifest, descriptions: [String: ServiceDescription], title: String = "BlytzWork API") -> JSONValue {
        let problems = SchemaCollector()
        let problem = problems.schema(for: Problem.self)
        var schemas = problems.components
        for description in descriptions.values.sorted(by: { $0.service < $1.service }) {
            schemas.merge(description.schemas ?? [:]) { first, _ in first }
        }
        var paths: [String: [String: JSONValue]] = [:]
        for function in manifest.functions {
            guard case .http(let method, let pattern) = function.trigger else { continue }
            let described = descriptions[function.service]?.functions.first { $0.name == function.name }
            paths[path(pattern), default: [:]][method.lowercased()] = operation(function, pattern: pattern, http: described?.http)
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": .string(title), "version": "1"],
            "servers": [["url": "/api", "description": "the gateway"]],
            "paths": .object(paths.mapValues { .object($0) }),
            "components": [
                "schemas": .object(schemas),
                "responses": ["Problem": ["description": "An error, as RFC 9457 problem details.", "content": ["application/problem+json": ["schema": problem]]]],
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
            ],
        ]
    }

    /// `/files/{key+}` → `/files/{key}`: OpenAPI names a greedy tail like any other parameter.
    public static func path(_ pattern: RoutePattern) -> String {
        "/" + pattern.segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter(let name), .greedy(let name): "{\(name)}"
            }
        }.joined(separator: "/")
    }

    static func operation(_ function: FunctionSpec, pattern: RoutePattern, http: ServiceDescription.Function.HTTP?) -> JSONValue {
        let problem: JSONValue = ["$ref": "#/components/responses/Problem"]
        var success: [String: JSONValue] = ["description": "Success."]
        if let output = http?.output {
            var content: [String: JSONValue] = [http?.outputContentType ?? "application/json": ["schema": output]]
            for (media, schema) in http?.alternateOutputs ?? [:] { content[media] = ["schema": schema] }
            success["content"] = .object(content)
        }
        var responses: [String: JSONValue] = ["2XX": .object(success), "4XX": problem, "5XX": problem]
        var fields: [String: JSONValue] = ["operationId": .string(function.name), "tags": [.string(function.service)]]
        let parameters: [JSONValue] = pattern.segments.compactMap { segment in
            switch segment {
            case .parameter(let name), .greedy(let name): ["name": .string(name), "in": "path", "required": true, "schema": ["type": "string"]]
            case .literal: nil
            }
        } + (http?.query ?? []).map { ["name": .string($0.name), "in": "query", "required": false, "schema": $0.schema] }
        if !parameters.isEmpty { fields["parameters"] = .array(parameters) }
        if let input = http?.input {
            fields["requestBody"] = ["required": .bool(!(http?.inputOptional ?? false)), "content": ["application/json": ["schema": input]]]
            responses["422"] = problem
        }
        if http?.access.bearer ?? true {
            fields["security"] = [["bearer": []]]
            responses["401"] = problem
            if let access = http?.access, access.roles != nil || access.services != nil {
                // Only some callers are admitted: which, and the 403 of the others.
                fields["x-access"] = .object([
                    "roles": access.roles.map { .array($0.map(JSONValue.string)) },
                    "services": access.services.map { .array($0.map(JSONValue.string)) },
                ].compactMapValues { $0 })
                responses["403"] = problem
            }
        } else {
            fields["security"] = []
        }
        fields["responses"] = .object(responses)
        return .object(fields)
    }
}
