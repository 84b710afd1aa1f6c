import Crypto
import Foundation
import SigV4

/// The local stand-in for S3 that the runner serves at `/_local/objects/<bucket>/<key>`: the same directory
/// layout the local storage writes (`<data>/objects/<bucket>/<key>`), and presigned URLs signed with
/// credentials both sides derive from the deployment's service key.
public enum LocalObjects {
    public static let region = "local"
    public static let service = "s3"
    public static let accessKeyId = "blytz-local-objects"
    /// The path the runner's gateway serves objects under.
    public static let pathPrefix = "/_local/objects"

    /// The credentials of presigned local URLs, derived from `BLYTZ_SERVICE_KEY`.
    public static func credentials(serviceKey: String) -> AWSCredentials {
        let secret = HMAC<SHA256>.authenticationCode(for: Data("local-objects".utf8), using: SymmetricKey(data: Data(serviceKey.utf8)))
        return AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: SigV4Signer.hex(secret))
    }

    /// The directory of one bucket under the data directory.
    public static func directory(dataDirectory: String, bucket: String) -> String { "\(dataDirectory)/objects/\(bucket)" }
}
