import BlytzObjects
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigV4

/// `/_local/objects/<bucket>/<key>` on the gateway: the local stand-in for an S3 bucket's presigned URLs,
/// for bytes that must not pass through a function (a large upload or download). `PUT` streams the body
/// into `<data>/objects/<bucket>/<key>` (visible only once whole), `GET` and `HEAD` stream it back with
/// `Range`; each needs a URL presigned with SigV4 by the local object credentials and not yet expired,
/// as S3 checks them. It knows buckets and keys, never a service.
struct LocalObjectEndpoint {
    let core: RunnerCore
    /// The largest object a PUT may write.
    static let maxObjectBytes = 5 << 30

    func answer(_ request: Request, context: some RequestContext) async -> Response {
        let path = request.uri.path
        let rest = path.dropFirst(LocalObjects.pathPrefix.count + 1).removingPercentEncoding ?? ""
        let parts = rest.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, ObjectKey(parts[0]) != nil, let key = ObjectKey(parts[1]) else {
            return EventMapping.problem(404, "No object at \(path).")
        }
        let query = (request.uri.query ?? "").split(separator: "&").map { pair in
            let halves = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            return (name: halves[0], value: halves.count > 1 ? halves[1] : "")
        }
        let method = request.method == .head ? "GET" : request.method.rawValue
        let credentials = core.objectCredentials
        do {
            try PresignedURL.verify(
                method: method, path: path, query: query, headers: [("host", request.head.authority ?? "")],
                region: LocalObjects.region, service: LocalObjects.service, now: Date()
            ) { $0 == credentials.accessKeyId ? credentials.secretAccessKey : nil }
        } catch {
            return EventMapping.problem(403, "\(error)")
        }
        let storage = LocalDirectoryStorage(dataDirectory: core.dataDirectory, bucket: parts[0], endpoint: "", credentials: credentials)
        switch request.method {
        case .put:
            do {
                let written = try await storage.write(key, chunks: request.body.map { Data($0.readableBytesView) }, limit: Self.maxObjectBytes)
                return Response(status: .ok, headers: [.contentLength: "0", .init("x-blytz-bytes")!: String(written)])
            } catch is LocalDirectoryStorage.TooLarge {
                return EventMapping.problem(413, "An object is at most \(Self.maxObjectBytes) bytes.")
            } catch {
                return EventMapping.problem(500, "The object could not be written: \(error)")
            }
        case .get, .head:
            guard let info = try? await storage.head(key) else { return EventMapping.problem(404, "No object \(key).") }
            var headers: HTTPFields = [.acceptRanges: "bytes", .contentType: "application/octet-stream"]
            let file = storage.path(key)
            let io = FileIO()
            switch ByteRange.parse(request.headers[.range], size: info.size) {
            case .unsatisfiable:
                headers[.contentRange] = "bytes */\(info.size)"
                return EventMapping.problem(416, "The range is outside the object's \(info.size) bytes.", headers: headers)
            case .range(let range):
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(info.size)"
                headers[.contentLength] = String(range.count)
                if request.method == .head { return Response(status: .partialContent, headers: headers) }
                guard let body = try? await io.loadFile(path: file, range: range, context: context) else { return EventMapping.problem(404, "No object \(key).") }
                return Response(status: .partialContent, headers: headers, body: body)
            case .whole:
                headers[.contentLength] = String(info.size)
                if request.method == .head { return Response(status: .ok, headers: headers) }
                guard let body = try? await io.loadFile(path: file, context: context) else { return EventMapping.problem(404, "No object \(key).") }
                return Response(status: .ok, headers: headers, body: body)
            }
        default:
            return EventMapping.problem(405, "Objects are read with GET or HEAD and written with PUT.")
        }
    }
}
