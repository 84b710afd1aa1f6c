import Blytz
import BlytzData
import BlytzManifest
import BlytzTesting
import Foundation
import Testing

/// The HTTP surface as one document: `blytz openapi` and the gateway's `/openapi.json`, checked by a real
/// validator and fuzzed by schemathesis against the running backend.
@Suite(.timeLimit(.minutes(5))) struct OpenAPITests {
    struct Document: Decodable {
        struct Operation: Decodable {
            struct Parameter: Decodable { var name: String; var `in`: String; var schema: JSONValue }
            var operationId: String
            var security: [[String: [String]]]?
            var parameters: [Parameter]?
        }
        var openapi: String
        var paths: [String: [String: Operation]]
    }

    /// The Python of `./local/test`'s venv, which holds the validator and schemathesis.
    static func python() throws -> String {
        guard let python = ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"] else {
            throw TestSetupError(description: "BLYTZ_TEST_PYTHON is not set: run the tests with ./local/test, which installs the Python tools")
        }
        return python
    }

    @Test func everyHTTPFunctionIsInTheDocumentWhichPassesTheValidator() throws {
        let file = NSTemporaryDirectory() + "openapi-\(UUID().uuidString).json"
        let written = try blytz(["openapi", "--output", file])
        #expect(written.status == 0, "\(written.output)")
        let document = try JSONDecoder().decode(Document.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(document.openapi == "3.1.0")
        let manifest = try Manifest.load(path: "functions.yaml")
        let http = manifest.functions.compactMap { function -> (name: String, method: String, path: String)? in
            guard case .http(let method, let pattern) = function.trigger else { return nil }
            return (function.name, method.lowercased(), OpenAPIDocument.path(pattern))
        }
        #expect(!http.isEmpty)
        for function in http {
            #expect(document.paths[function.path]?[function.method]?.operationId == function.name, "\(function.name) is missing")
        }
        #expect(document.paths.values.reduce(0) { $0 + $1.count } == http.count)
        // Open routes say so; every other route needs a bearer token.
        #expect(document.paths["/auth/login"]?["post"]?.security?.isEmpty == true)
        #expect(document.paths["/auth/me"]?["get"]?.security?.first?["bearer"] != nil)
        // Query parameters come from the code that reads them, with their constraints.
        let search = try #require(document.paths["/profiles/va"]?["get"]?.parameters)
        #expect(search.filter { $0.in == "query" }.map(\.name) == ["q", "skills", "country", "minRate", "maxRate", "available", "minRating", "sort", "limit", "cursor"])
        #expect(search.first { $0.name == "sort" }?.schema == ["type": "string", "enum": ["rating", "rate", "recent"]])
        #expect(search.first { $0.name == "limit" }?.schema == ["type": "integer", "minimum": 1, "maximum": 100])
        #expect(document.paths["/users/{id}"]?["get"]?.parameters?.map(\.in) == ["path"])
        let validated = try runProcess(try Self.python(), ["-m", "openapi_spec_validator", file])
        #expect(validated.status == 0, "\(validated.output)")
    }

    @Test func aDocumentThatBreaksTheSpecificationIsRefusedByTheValidator() throws {
        // The validator itself can fail: a path parameter the operation does not declare.
        let file = NSTemporaryDirectory() + "broken-\(UUID().uuidString).json"
        let broken = #"{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/users/{id}":{"get":{"responses":{"200":{"description":"ok"}}}}}}"#
        try Data(broken.utf8).write(to: URL(fileURLWithPath: file))
        #expect(try runProcess(try Self.python(), ["-m", "openapi_spec_validator", file]).status != 0)
    }

    /// Schemathesis against the running backend, signed in as a VA and as a company: no server error,
    /// every error problem+json, and no route that declares a token working without one.
    @Test func fuzzingFindsNoServerErrorAndOnlyProblemDocuments() async throws {
        let python = try Self.python()
        let tools = FileManager.default.currentDirectoryPath + "/local/tools"
        try await Backend.with(.sqlite) { api in
            let served = try await api.runner.get("/openapi.json")
            #expect(served.status == 200 && served.header("content-type") == "application/json")
            let document = NSTemporaryDirectory() + "served-\(UUID().uuidString).json"
            try served.body.write(to: URL(fileURLWithPath: document))
            for role in ["va", "company"] {
                let session = try await api.register(role)
                // At low priority: the fuzzer shares the machine with the rest of the suite's timing checks.
                let result = try runProcess(
                    "/usr/bin/nice",
                    [
                        "-n", "15", python, "-m", "schemathesis.cli", "run", document, "--url", api.runner.urls.gateway + "/api",
                        "--header", "Authorization: Bearer \(session.accessToken)",
                        "--checks", "not_a_server_error,ignored_auth,response_schema_conformance,content_type_conformance,problem_json",
                        "--phases", "examples,fuzzing", "--max-examples", "6", "--seed", "20261202",
                        "--no-color",
                    ],
                    environment: ["SCHEMATHESIS_HOOKS": "schemathesis_hooks", "PYTHONPATH": tools]
                )
                #expect(result.status == 0, "signed in as a \(role):\n\(result.output.suffix(6000))")
            }
        }
    }
}
