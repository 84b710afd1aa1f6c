import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

/// Where and as whom AWS calls are made: the region, the credentials (Lambda's `AWS_*` variables), and an
/// endpoint override for a compatible server (`BLYTZ_AWS_ENDPOINT`, moto's in the tests and rehearsals).
public struct AWSSettings: Sendable {
    public var region: String
    public var credentials: AWSCredentials
    /// `http://127.0.0.1:5000`; nil for AWS's own endpoints.
    public var endpoint: String?

    public init(region: String, credentials: AWSCredentials, endpoint: String? = nil) {
        self.region = region
        self.credentials = credentials
        self.endpoint = endpoint
    }

    /// From `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and `BLYTZ_AWS_ENDPOINT`.
    public init?(_ configuration: (String) -> String?) {
        guard let key = configuration("AWS_ACCESS_KEY_ID"), let secret = configuration("AWS_SECRET_ACCESS_KEY") else { return nil }
        self.init(
            region: configuration("AWS_REGION") ?? configuration("AWS_DEFAULT_REGION") ?? "us-east-1",
            credentials: AWSCredentials(accessKeyId: key, secretAccessKey: secret, sessionToken: configuration("AWS_SESSION_TOKEN")),
            endpoint: configuration("BLYTZ_AWS_ENDPOINT").flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    /// The base URL of `service` (`sns`, `sqs`).
    public func url(of service: String) -> String {
        endpoint ?? "https://\(service).\(region).amazonaws.com"
    }
}

/// A failed AWS call: its status and the error's code and message from the response.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public var description: String { "AWS answered \(status) \(code): \(message)" }
}

/// AWS's Query protocol (SNS, SQS): a form-encoded POST of `Action`, `Version` and the parameters, signed
/// with SigV4, answered with XML.
public struct AWSQueryClient: Sendable {
    public let settings: AWSSettings
    public let service: String
    public let version: String
    let http: HTTPClient
    let signer: SigV4Signer

    public init(settings: AWSSettings, service: String, version: String, http: HTTPClient = .shared) {
        self.settings = settings
        self.service = service
        self.version = version
        self.http = http
        self.signer = SigV4Signer(credentials: settings.credentials, region: settings.region, service: service)
    }

    /// Calls `action` at `path` (SQS addresses a queue by its path) and answers the response's XML.
    @discardableResult
    public func call(_ action: String, _ parameters: [(String, String)], path: String = "/") async throws -> String {
        let base = settings.url(of: service)
        let components = URLComponents(string: base)
        var host = components?.host ?? ""
        if let port = components?.port { host += ":\(port)" }
        let form = ([("Action", action), ("Version", version)] + parameters).map { "\(SigV4Signer.encode($0.0))=\(SigV4Signer.encode($0.1))" }
            .joined(separator: "&")
        let body = Data(form.utf8)
        let headers = [("host", host), ("content-type", "application/x-www-form-urlencoded; charset=utf-8")]
        let signed = signer.signingHeaders(
            for: .init(method: "POST", path: path, headers: headers), payloadHash: SigV4Signer.hex(SigV4Signer.sha256(body)), date: Date()
        )
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        for (name, value) in headers.dropFirst() + signed { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await http.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 4 * 1024 * 1024))
        guard (200..<300).contains(Int(response.status.code)) else {
            throw AWSError(status: Int(response.status.code), code: XML.first("Code", in: text) ?? "", message: XML.first("Message", in: text) ?? text)
        }
        return text
    }
}

/// Just enough XML reading for AWS's Query answers: the text of elements by name.
public enum XML {
    /// The text of every `<name>…</name>` in `text`, in order (entities decoded).
    public static func all(_ name: String, in text: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) {
            found.append(decode(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return found
    }

    public static func first(_ name: String, in text: String) -> String? {
        all(name, in: text).first
    }

    static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&#xD;", with: "\r").replacingOccurrences(of: "&#xA;", with: "\n")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
