import BlytzData
import BlytzTesting
import Foundation
import NIOHTTP1
import SigV4
import Testing

/// The presigned flow on the local directory, through the running runner: the bytes go to and come from
/// the runner's local object endpoint (never through a function), which checks each URL's signature and
/// expiry as S3 does; on SQLite and PostgreSQL.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FilesThroughRunnerTests {
    struct Ticket: Decodable { struct File: Decodable { var id: String; var status: String }; var file: File; var uploadUrl: String }
    struct File: Decodable { var id: String; var status: String; var size: Int; var sha256: String? }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aLargeFileGoesUpAndComesBackAroundTheFunctions(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine, environment: ["FILES_INLINE_BYTES": "4096"]) { api in
            let va = try await api.register("va").accessToken
            let bytes = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let start = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let image = start + bytes
            let ask = #"{"filename":"board.png","contentType":"image/png","size":\#(image.count),"sha256":"\#(image.sha256Hex)"}"#
            let created = try await api.call(.POST, "/files/uploads", token: va, json: ask)
            #expect(created.status == 201, "\(created.text)")
            let ticket = try created.json(Ticket.self)
            #expect(ticket.uploadUrl.hasPrefix(api.runner.urls.gateway + "/_local/objects/files/users/"))

            // The endpoint takes only what was signed: not another key, not another method, not a changed expiry.
            let otherKey = ticket.uploadUrl.replacingOccurrences(of: ticket.file.id, with: UUID().uuidString.lowercased())
            #expect(try await send(.PUT, otherKey, body: image).status == 403)
            #expect(try await send(.GET, ticket.uploadUrl).status == 403)
            #expect(try await send(.PUT, ticket.uploadUrl.replacingOccurrences(of: "X-Amz-Expires=3600", with: "X-Amz-Expires=7200"), body: image).status == 403)
            #expect(try await send(.PUT, String(ticket.uploadUrl.prefix { $0 != "?" }), body: image).status == 403)
            #expect(try await send(.PUT, ticket.uploadUrl, body: image).status == 200)

            let done = try await api.call(.POST, "/files/\(ticket.file.id)/complete", token: va)
            #expect(done.status == 200, "\(done.text)")
            #expect(try done.json(File.self).status == "ready")

            // Larger than the inline limit: redirected to the endpoint, which streams it with Range.
            let download = try await send(.GET, api.runner.urls.gateway + "/api/files/\(ticket.file.id)/content", headers: ["Authorization": "Bearer \(va)"])
            #expect(download.status == 302)
            let location = try #require(download.headers.first(name: "location"))
            let whole = try await send(.GET, location)
            #expect(whole.status == 200 && whole.body == image)
            let part = try await send(.GET, location, headers: ["Range": "bytes=-8"])
            #expect(part.status == 206 && part.body == image.suffix(8) && part.headers.first(name: "content-range") == "bytes \(image.count - 8)-\(image.count - 1)/\(image.count)")
            #expect(try await send(.GET, location, headers: ["Range": "bytes=\(image.count)-"]).status == 416)
            #expect(try await send(.PUT, location, body: Data("overwrite".utf8)).status == 403)
            #expect(try await send(.GET, location).body == image)
        }
    }
}
