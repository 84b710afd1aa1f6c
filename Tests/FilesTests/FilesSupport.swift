import AsyncHTTPClient
import BlytzObjects
import BlytzTesting
import Foundation
import NIOCore
import NIOHTTP1
import SigV4

func newId() -> String { UUID().uuidString.lowercased() }

/// moto's server (from PyPI) as a real S3-compatible store. With `checkingSignatures` its authentication
/// is on: the first three requests (making an IAM user, its access key and a policy allowing everything)
/// go unchecked, every later one must carry a valid signature of a known key. moto cannot answer presigned
/// URLs with authentication on (it fails looking for an `Authorization` header), so tests of the presigned
/// flow run it without, and the signer's known-answer tests stand for the presigned signature.
enum Moto {
    struct Server: Sendable {
        var endpoint: String
        var credentials: AWSCredentials

        func storage(bucket: String = "blytz-\(newId().prefix(8))", credentials: AWSCredentials? = nil) -> S3Storage {
            S3Storage(.init(endpoint: endpoint, bucket: bucket, region: "us-east-1", pathStyle: true, credentials: credentials ?? self.credentials), http: .shared)
        }

        /// The settings that point the files service at a new bucket of this server.
        func settings(bucket: String) -> [String: String] {
            [
                "STORAGE": "s3", "S3_ENDPOINT": endpoint, "S3_BUCKET": bucket, "S3_REGION": "us-east-1", "S3_PATH_STYLE": "true",
                "AWS_ACCESS_KEY_ID": credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
            ]
        }
    }

    static func with<T>(checkingSignatures: Bool = true, _ body: (Server) async throws -> T) async throws -> T {
        let environment = checkingSignatures ? ["INITIAL_NO_AUTH_ACTION_COUNT": "3"] : [:]
        return try await PythonServer.with(module: "moto.server", arguments: ["-p", "{port}", "-H", "127.0.0.1"], environment: environment) { port in
            let endpoint = "http://127.0.0.1:\(port)"
            let user = "blytz-tests"
            _ = try await iam(endpoint, ["Action": "CreateUser", "UserName": user])
            let key = try await iam(endpoint, ["Action": "CreateAccessKey", "UserName": user])
            let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
            _ = try await iam(endpoint, ["Action": "PutUserPolicy", "UserName": user, "PolicyName": "everything", "PolicyDocument": policy])
            guard let id = S3Storage.elements("AccessKeyId", in: key).first, let secret = S3Storage.elements("SecretAccessKey", in: key).first else {
                throw TestSetupError(description: "moto made no access key: \(key)")
            }
            return try await body(Server(endpoint: endpoint, credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret)))
        }
    }

    /// An IAM query call, signed (moto routes by the credential's service) by a key it does not check yet.
    static func iam(_ endpoint: String, _ parameters: [String: String]) async throws -> String {
        let body = SigV4Signer.queryString((parameters.merging(["Version": "2010-05-08"]) { $1 }).map { ($0.key, $0.value) })
        let host = String(endpoint.dropFirst("http://".count))
        let headers = [("host", host), ("content-type", "application/x-www-form-urlencoded")]
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "unchecked"), region: "us-east-1", service: "iam")
        let signed = signer.signingHeaders(for: .init(method: "POST", path: "/", headers: headers), payloadHash: SigV4Signer.hex(SigV4Signer.sha256(Data(body.utf8))), date: Date())
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else { throw TestSetupError(description: "moto's IAM answered \(response.status): \(text)") }
        return text
    }
}

/// A PNG's first bytes and some more: enough for the type check.
let pngBytes = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data((0..<2000).map { UInt8($0 % 251) })
/// The first bytes of an ELF executable.
let elfBytes = Data([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]) + Data(repeating: 0, count: 120)

/// A plain request on a real socket (no redirect followed), for presigned URLs.
func send(_ method: HTTPMethod, _ url: String, headers: [String: String] = [:], body: Data? = nil) async throws -> (status: Int, headers: HTTPHeaders, body: Data) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await plainClient.execute(request, timeout: .seconds(60))
    let collected = try await response.body.collect(upTo: 256 << 20)
    return (Int(response.status.code), response.headers, Data(collected.readableBytesView))
}

let plainClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
