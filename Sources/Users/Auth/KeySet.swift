import Foundation
import HTTPTypes
import Blytz
import BlytzEvents
import JWTKit

/// `GET /auth/jwks`: the public keys access tokens are signed with, retired ones included until their
/// tokens expire; other services verify tokens with them.
struct KeySet: HTTPFunction {
    static let access = Open()

    struct Output: ResponseBody, SchemaDescribing {
        var jwks: JWKS

        static let contentType = "application/jwk-set+json"
        static func jsonSchema(_ schemas: SchemaCollector) -> JSONValue {
            ["type": "object", "required": ["keys"], "properties": ["keys": ["type": "array", "items": ["type": "object", "required": ["kty", "kid"]]]]]
        }

        func encodedBody() throws -> (data: Data, contentType: String)? {
            (try JSONEncoder().encode(jwks), Self.contentType)
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let environment = try context.users
        let (ring, _) = try await environment.keys.ring()
        let jwks = ring.jwks(now: context.now, accessTokenTTL: environment.settings.accessTokenTTL)
        return FunctionResponse(headers: [.cacheControl: "public, max-age=300"], body: Output(jwks: jwks))
    }
}
