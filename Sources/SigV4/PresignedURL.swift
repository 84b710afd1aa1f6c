import Crypto
import Foundation

/// Checks a presigned request as S3 does: the algorithm, the credential's scope, that it is not expired
/// (nor dated more than 15 minutes ahead), and the signature over the request's method, path, query and
/// signed headers.
public enum PresignedURL {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missing(String)
        case malformed(String)
        case unknownAccessKey
        case expired
        case notYetValid
        case signatureMismatch

        public var description: String {
            switch self {
            case .missing(let name): "The request is not presigned: \(name) is missing."
            case .malformed(let name): "The presigned request's \(name) is malformed."
            case .unknownAccessKey: "The access key is not known here."
            case .expired: "The presigned URL has expired."
            case .notYetValid: "The presigned URL is not valid yet."
            case .signatureMismatch: "The signature does not match the request."
            }
        }
    }

    /// Verifies a request whose query (decoded) carries the `X-Amz-*` parameters; `secret` gives an access
    /// key's secret. Answers the access key id that signed it.
    @discardableResult
    public static func verify(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        region: String, service: String, now: Date, secret: (String) -> String?
    ) throws(Failure) -> String {
        func value(_ name: String) throws(Failure) -> String {
            guard let found = query.first(where: { $0.name == name })?.value, !found.isEmpty else { throw .missing(name) }
            return found
        }
        guard try value("X-Amz-Algorithm") == SigV4Signer.algorithm else { throw .malformed("X-Amz-Algorithm") }
        let credential = try value("X-Amz-Credential").split(separator: "/").map(String.init)
        guard credential.count == 5, credential[2] == region, credential[3] == service, credential[4] == "aws4_request" else {
            throw .malformed("X-Amz-Credential")
        }
        let stamp = try value("X-Amz-Date")
        guard let signedAt = SigV4Signer.date(fromTimestamp: stamp), stamp.hasPrefix(credential[1]) else { throw .malformed("X-Amz-Date") }
        guard let expires = Int(try value("X-Amz-Expires")), (1...604_800).contains(expires) else { throw .malformed("X-Amz-Expires") }
        let signature = try value("X-Amz-Signature")
        let signedNames = try value("X-Amz-SignedHeaders").split(separator: ";").map(String.init)
        guard signedNames.contains("host") else { throw .malformed("X-Amz-SignedHeaders") }
        guard let key = secret(credential[0]) else { throw .unknownAccessKey }
        guard now.timeIntervalSince(signedAt) <= TimeInterval(expires) else { throw .expired }
        guard signedAt.timeIntervalSince(now) <= 900 else { throw .notYetValid }

        var signedHeaders: [(name: String, value: String)] = []
        for name in signedNames {
            let values = headers.filter { $0.name.lowercased() == name }
            guard !values.isEmpty else { throw .missing("header \(name)") }
            signedHeaders += values
        }
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: credential[0], secretAccessKey: key), region: region, service: service)
        let request = SigV4Signer.Request(method: method, path: path, query: query.filter { $0.name != "X-Amz-Signature" }, headers: signedHeaders)
        let (canonical, _) = SigV4Signer.canonicalRequest(request, payloadHash: SigV4Signer.unsignedPayload, doubleEncodePath: service != "s3")
        let expected = signer.signature(canonicalRequest: canonical, timestamp: stamp)
        guard Data(expected.utf8).withUnsafeBytes({ a in Data(signature.lowercased().utf8).withUnsafeBytes { b in safeCompare(a, b) } }) else {
            throw .signatureMismatch
        }
        return credential[0]
    }

    private static func safeCompare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<a.count { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
