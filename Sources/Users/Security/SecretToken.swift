import Foundation
import Blytz
import BlytzEvents
import BlytzServices
import Crypto

/// A random bearer secret (refresh, reset and verification tokens): 32 random bytes, base64url;
/// only its SHA-256 is ever stored.
struct SecretToken: Sendable, Equatable {
    var value: String

    static func generate() -> SecretToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return SecretToken(value: Data(bytes).base64URL)
    }

    /// The stored form of a token.
    static func hash(_ value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    var hash: String { Self.hash(value) }
}
