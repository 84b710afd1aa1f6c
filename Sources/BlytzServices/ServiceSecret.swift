import Blytz
import BlytzEvents
import Crypto
import Foundation

/// The secret a service proves itself with when it asks the user service for a token: HMAC-SHA256 of its
/// name under the deployment's service key (`BLYTZ_SERVICE_KEY`), or `BLYTZ_SERVICE_SECRET` where a
/// deployment hands each service only its own.
public enum ServiceSecret {
    /// `service`'s secret under `key`, as hex.
    public static func derive(_ service: ServiceName, key: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(service.rawValue.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// This service's own secret, from its configuration.
    public static func own(_ configuration: Configuration) -> String? {
        if let secret = configuration["BLYTZ_SERVICE_SECRET"], !secret.isEmpty { return secret }
        guard let key = configuration["BLYTZ_SERVICE_KEY"], let name = configuration["BLYTZ_SERVICE"].flatMap(ServiceName.init(rawValue:)) else { return nil }
        return derive(name, key: key)
    }

    /// Whether `secret` is `service`'s, compared in constant time.
    public static func verify(_ secret: String, for service: ServiceName, key: String) -> Bool {
        let expected = Array(derive(service, key: key).utf8)
        let given = Array(secret.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The body of `POST /auth/service-token` on the user service.
public struct ServiceTokenRequest: Codable, Sendable {
    public var service: ServiceName
    public var secret: String
    /// The person the service acts for, if any.
    public var actingFor: String?

    public init(service: ServiceName, secret: String, actingFor: String?) {
        self.service = service
        self.secret = secret
        self.actingFor = actingFor
    }
}

/// A service's short-lived access token.
public struct ServiceToken: Codable, Sendable, ResponseBody {
    public var accessToken: String
    public var expiresIn: Int

    public init(accessToken: String, expiresIn: Int) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
    }
}
