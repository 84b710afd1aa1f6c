import Blytz

/// A file finished uploading and is ready.
public struct FileUploaded: Event {
    public static let type: EventType = "FileUploaded"
    public var fileId: String
    public var ownerUserId: String
    public var filename: String
    public var contentType: String
    public var size: Int
    public var sha256: String
    public var visibility: String
    public var subject: String { fileId }

    public init(fileId: String, ownerUserId: String, filename: String, contentType: String, size: Int, sha256: String, visibility: String) {
        self.fileId = fileId
        self.ownerUserId = ownerUserId
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.visibility = visibility
    }
}
