import Crypto
import Foundation

/// AWS credentials: an access key and its secret, and a session token for temporary ones.
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4, as AWS documents it ("Create a signed AWS API request"; for S3, "Authenticating
/// Requests (AWS Signature Version 4)"): signs a request's headers, presigns a URL, and verifies a presigned
/// URL (the runner's local object endpoint answers them with S3's semantics).
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    /// The payload hash S3 accepts when the body is not signed (presigned URLs, streamed uploads).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let algorithm = "AWS4-HMAC-SHA256"

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request to sign: its method, its path as sent (percent-encoded where needed, or plain: it is
    /// normalised), its query parameters (decoded), and its headers.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        /// The path is exactly the bytes sent, reserved characters left as they are (`/@connections/…`, as
        /// AWS's SDKs send API Gateway's management paths): the canonical path encodes it once, as the
        /// service does on receipt.
        public var verbatimPath: Bool

        public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)], verbatimPath: Bool = false) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.verbatimPath = verbatimPath
        }
    }

    /// The headers to add to `request` to sign it: `x-amz-date`, `x-amz-content-sha256` for S3,
    /// `x-amz-security-token` for temporary credentials, and `Authorization`. Every header of the request
    /// is signed; `payloadHash` is the body's hex SHA-256 (or `unsignedPayload`).
    public func signingHeaders(for request: Request, payloadHash: String, date: Date) -> [(name: String, value: String)] {
        let stamp = Self.timestamp(date)
        var added: [(name: String, value: String)] = [("x-amz-date", stamp)]
        if service == "s3" { added.append(("x-amz-content-sha256", payloadHash)) }
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        var signed = request
        signed.headers += added
        let (canonical, signedHeaders) = Self.canonicalRequest(signed, payloadHash: payloadHash, doubleEncodePath: service != "s3")
        let signature = self.signature(canonicalRequest: canonical, timestamp: stamp)
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope(stamp)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return added + [("Authorization", authorization)]
    }

    /// The query parameters that presign `request` for `expires` seconds from `date` (the `X-Amz-*` set, the
    /// signature last); the request's own query parameters stay as they are. Only the request's headers are
    /// signed (at least `host`), and the payload is not.
    public func presignedQuery(for request: Request, expires: Int, date: Date) -> [(name: String, value: String)] {
        let stamp = Self.timestamp(date)
        let signedHeaders = Self.canonicalHeaders(request.headers).names
        var query: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(stamp))"),
            ("X-Amz-Date", stamp),
            ("X-Amz-Expires", String(expires)),
        ]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        query.append(("X-Amz-SignedHeaders", signedHeaders))
        var signed = request
        signed.query += query
        let (canonical, _) = Self.canonicalRequest(signed, payloadHash: Self.unsignedPayload, doubleEncodePath: service != "s3")
        return query + [("X-Amz-Signature", signature(canonicalRequest: canonical, timestamp: stamp))]
    }

    /// `query` (decoded) as a URL's query string, each part encoded as SigV4 encodes it.
    public static func queryString(_ query: [(name: String, value: String)]) -> String {
        query.map { "\(encode($0.name))=\(encode($0.value))" }.joined(separator: "&")
    }

    // MARK: - The steps

    /// The canonical request and its signed header names.
    public static func canonicalRequest(_ request: Request, payloadHash: String, doubleEncodePath: Bool) -> (String, String) {
        let path = request.verbatimPath && doubleEncodePath
            ? request.path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
            : canonicalPath(request.path, doubleEncode: doubleEncodePath)
        let encoded: [(name: String, value: String)] = request.query.map { (encode($0.name), encode($0.value)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let query = sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let headers = canonicalHeaders(request.headers)
        return ([request.method, path, query, headers.text, headers.names, payloadHash].joined(separator: "\n"), headers.names)
    }

    /// The string to sign for a canonical request at `timestamp` (`yyyyMMddTHHmmssZ`).
    public func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        [Self.algorithm, timestamp, scope(timestamp), Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// The hex signature of a canonical request.
    public func signature(canonicalRequest: String, timestamp: String) -> String {
        let toSign = stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp)
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey(day: String(timestamp.prefix(8)))))
    }

    /// The key of one day, region and service, derived from the secret.
    public func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    func scope(_ timestamp: String) -> String { "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request" }

    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (text: String, names: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let trimmed = value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name.lowercased(), default: []].append(trimmed)
        }
        let names = merged.keys.sorted()
        return (names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined(), names.joined(separator: ";"))
    }

    public static func canonicalPath(_ path: String, doubleEncode: Bool) -> String {
        let decoded = path.removingPercentEncoding ?? path
        let once = decoded.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
        let encoded = doubleEncode ? once.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/") : once
        return encoded.isEmpty ? "/" : encoded
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 requires.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// `date` as SigV4's `yyyyMMddTHHmmssZ`.
    public static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// The date of a `yyyyMMddTHHmmssZ` timestamp; nil for anything else.
    public static func date(fromTimestamp stamp: String) -> Date? {
        let digits = stamp.filter(\.isNumber)
        guard stamp.count == 16, digits.count == 14, stamp.hasSuffix("Z"), Array(stamp)[8] == "T" else { return nil }
        var parts = tm()
        let number = { (from: Int, count: Int) in Int32(digits.dropFirst(from).prefix(count))! }
        parts.tm_year = number(0, 4) - 1900
        parts.tm_mon = number(4, 2) - 1
        parts.tm_mday = number(6, 2)
        parts.tm_hour = number(8, 2)
        parts.tm_min = number(10, 2)
        parts.tm_sec = number(12, 2)
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    /// The SHA-256 of `data`.
    public static func sha256(_ data: Data) -> [UInt8] { Array(SHA256.hash(data: data)) }

    public static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
