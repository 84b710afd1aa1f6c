import AsyncHTTPClient
import Blytz
import BlytzObjects
import BlytzServices
import SigV4

/// Where the files service keeps its objects (`STORAGE`): `local` (the default) under `BLYTZ_DATA_DIR`,
/// its presigned URLs served by the runner (`BLYTZ_OBJECTS_ENDPOINT`); or `s3`, with `S3_BUCKET`,
/// `S3_REGION` (default `us-east-1`), `S3_ENDPOINT` (default AWS's for the region), `S3_PATH_STYLE`
/// (`true` for most compatible servers) and `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`. Limits: `MAX_UPLOAD_BYTES` for a direct upload (default 5 MiB, within a
/// function's 6 MB event), `MAX_PRESIGNED_BYTES` for the presigned flow (default 5 GiB), `INLINE_BYTES`
/// (default 4 MiB: larger downloads redirect to a presigned URL).
struct StorageSettings: Sendable {
    enum Backend: String, Sendable { case local, s3 }

    var backend: Backend
    var maxUploadBytes: Int
    var maxPresignedBytes: Int
    var inlineBytes: Int
    /// How long a presigned URL and an unfinished upload last.
    var uploadSeconds = 3600
    var downloadSeconds = 300

    init(_ configuration: Configuration) {
        backend = configuration["STORAGE"].flatMap(Backend.init(rawValue:)) ?? .local
        maxUploadBytes = configuration.int("MAX_UPLOAD_BYTES") ?? 5 << 20
        maxPresignedBytes = configuration.int("MAX_PRESIGNED_BYTES") ?? 5 << 30
        inlineBytes = configuration.int("INLINE_BYTES") ?? 4 << 20
    }

    static let bucket = "files"

    /// The configured storage; an S3 one calls through the process's shared HTTP client.
    static func storage(_ configuration: Configuration) throws -> any ObjectStorage {
        switch StorageSettings(configuration).backend {
        case .local:
            guard let key = configuration["BLYTZ_SERVICE_KEY"] else { throw ConfigurationMissing(setting: "BLYTZ_SERVICE_KEY") }
            return LocalDirectoryStorage(
                dataDirectory: configuration.dataDirectory, bucket: bucket,
                endpoint: configuration["BLYTZ_OBJECTS_ENDPOINT"] ?? "http://127.0.0.1:3000\(LocalObjects.pathPrefix)",
                credentials: LocalObjects.credentials(serviceKey: key)
            )
        case .s3:
            guard let bucket = configuration["S3_BUCKET"] else { throw ConfigurationMissing(setting: "S3_BUCKET") }
            guard let id = configuration["AWS_ACCESS_KEY_ID"], let secret = configuration["AWS_SECRET_ACCESS_KEY"] else {
                throw ConfigurationMissing(setting: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            let region = configuration["S3_REGION"] ?? "us-east-1"
            return S3Storage(.init(
                endpoint: configuration["S3_ENDPOINT"] ?? "https://s3.\(region).amazonaws.com", bucket: bucket, region: region,
                pathStyle: configuration["S3_PATH_STYLE"] == "true",
                credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: configuration["AWS_SESSION_TOKEN"])
            ), http: .shared)
        }
    }
}

enum StorageKey: DependencyKey {
    typealias Value = any ObjectStorage
}

extension FunctionContext {
    /// The configured object storage.
    var storage: any ObjectStorage {
        get throws(HTTPError) { try dependencies.require(StorageKey.self, "object storage") }
    }
}
