import Foundation
import Blytz
import BlytzEvents
import JWTKit

/// The public keys tokens may be signed with, by key id.
public struct SigningKeys: Sendable {
    public let keyIds: Set<String>
    let collection: JWTKeyCollection

    /// A key set holding exactly `keys` (no default key: a token must name one of them).
    public init(_ keys: [String: ES256PublicKey]) async {
        let collection = JWTKeyCollection()
        for (kid, key) in keys { await collection.add(ecdsa: key, kid: JWKIdentifier(string: kid)) }
        await collection.clearDefault()
        self.collection = collection
        keyIds = Set(keys.keys)
    }

    /// The keys of a JWKS document; keys other than P-256 ES256 ones are skipped.
    public init(jwks: JWKS) async throws {
        var keys: [String: ES256PublicKey] = [:]
        for jwk in jwks.keys where jwk.keyType == .ecdsa && (jwk.algorithm == nil || jwk.algorithm == .es256) {
            guard let kid = jwk.keyIdentifier?.string, let x = jwk.x, let y = jwk.y else { continue }
            keys[kid] = try ES256PublicKey(parameters: (x, y))
        }
        await self.init(keys)
    }
}

/// Where a verifier gets its keys; `refresh` is set when a token names a key id the last copy lacked.
public protocol SigningKeySource: Sendable {
    func signingKeys(refresh: Bool) async throws -> SigningKeys
}

/// Why a bearer token was refused (401), or could not be checked because the keys could not be had (503).
public struct TokenRejected: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    /// The keys were unavailable: the token was not judged.
    public var unavailable = false

    public init(description: String, unavailable: Bool = false) {
        self.description = description
        self.unavailable = unavailable
    }
}

/// Verifies access tokens: ES256 only, a known `kid`, a valid signature, the issuer, and not expired.
public struct TokenVerifier: Sendable {
    public let keys: any SigningKeySource

    public init(keys: any SigningKeySource) {
        self.keys = keys
    }

    public func verify(_ token: String) async throws(TokenRejected) -> AccessClaims {
        let header = try Self.header(of: token)
        guard header.alg == "ES256" else { throw TokenRejected(description: "the token's algorithm is not ES256") }
        guard let kid = header.kid, !kid.isEmpty else { throw TokenRejected(description: "the token names no key") }
        var keys: SigningKeys
        do {
            keys = try await self.keys.signingKeys(refresh: false)
            if !keys.keyIds.contains(kid) { keys = try await self.keys.signingKeys(refresh: true) }
        } catch {
            throw TokenRejected(description: "the signing keys could not be loaded (\(error))", unavailable: true)
        }
        guard keys.keyIds.contains(kid) else { throw TokenRejected(description: "the token's key is unknown") }
        do {
            return try await keys.collection.verify(token, as: AccessClaims.self)
        } catch let error as TokenRejected {
            throw error
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw TokenRejected(description: error.reason ?? "the token has expired")
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw TokenRejected(description: "the token's signature does not verify")
        } catch {
            throw TokenRejected(description: "the token is not valid")
        }
    }

    /// The header fields a verifier looks at before trusting anything else.
    public struct Header: Decodable, Sendable {
        public var alg: String?
        public var kid: String?
    }

    /// The unverified header of `token`.
    public static func header(of token: String) throws(TokenRejected) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URL: parts[0]), let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw TokenRejected(description: "the token is not a JWT")
        }
        return header
    }
}

extension Data {
    /// Decodes unpadded base64url, as JWTs and opaque tokens use it.
    public init?(base64URL text: some StringProtocol) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    /// Unpadded base64url, as JWTs and opaque tokens use it.
    public var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
