import Blytz
import BlytzData
import BlytzEvents
import BlytzObjects
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import SigV4
import NIOHTTP1
import Testing

@testable import Files

extension ServiceHarness where Service == Files {
    /// `POST /files` with a raw body.
    func upload(_ data: Data, type: String?, query: [String: String] = [:], as identity: TestIdentity?) async throws -> HandlerTester.Response {
        var headers: HTTPFields = [:]
        if let type { headers[.contentType] = type }
        return try await http("files-upload", .init(method: .post, path: "/files", query: query, headers: headers, body: data), as: identity)
    }

    func content(_ id: String, headers: HTTPFields = [:], as identity: TestIdentity?) async throws -> HandlerTester.Response {
        try await http("files-content", .init(method: .get, path: "/files/\(id)/content", pathParameters: ["id": id], headers: headers), as: identity)
    }

    var storage: any ObjectStorage { dependencies[StorageKey.self]! }
}

/// The routes on the local directory (SQLite and PostgreSQL) and on S3 (moto's server): uploads with type
/// sniffing and limits, downloads with ranges and validators, who may read what, the presigned flow, and a
/// deleted user's files.
@Suite struct FileRoutesTests {
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func uploadsAreCheckedAndDownloadsHonourRangesAndValidators(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Files>.with(engine, configuration: ["MAX_UPLOAD_BYTES": "100000"]) { files in
            let (va, company, stranger) = (newId(), newId(), newId())
            let owner = TestIdentity.person(va, .va)
            #expect(try await files.upload(pngBytes, type: "image/png", as: nil).status == .unauthorized)
            // The bytes decide: an executable named a PNG is refused, naming what it is.
            let disguised = try await files.upload(elfBytes, type: "image/png", query: ["filename": "cat.png"], as: owner)
            #expect(disguised.status == .unsupportedMediaType && disguised.problemFields == ["contentType"])
            #expect(disguised.problem?.detail?.contains("application/x-executable") == true)
            #expect(try await files.upload(elfBytes, type: "application/octet-stream", as: owner).status == .unsupportedMediaType)
            #expect(try await files.upload(Data("plain words".utf8), type: "image/jpeg", as: owner).status == .unsupportedMediaType)
            #expect(try await files.upload(Data(), type: "image/png", as: owner).problemFields == ["body"])
            let big = try await files.upload(pngBytes + Data(count: 100_000), type: "image/png", as: owner)
            #expect(big.status == .contentTooLarge && big.problemFields == ["body"])
            #expect(try await files.published(FileUploaded.self).isEmpty)

            // A private PNG, with a name that needs encoding.
            let uploaded = try await files.upload(pngBytes, type: "image/png", query: ["filename": "../Résumé \"final\".png"], as: owner)
            #expect(uploaded.status == .created)
            let file = try uploaded.json(FileView.self)
            #expect(file.filename == "Résumé \"final\".png" && file.size == pngBytes.count && file.status == .ready && file.visibility == .private)
            #expect(file.sha256 == "\(pngBytes.sha256Hex)")
            #expect(try await files.published(FileUploaded.self).map(\.fileId) == [file.id])

            let whole = try await files.content(file.id, as: owner)
            #expect(whole.status == .ok && whole.body == pngBytes)
            #expect(whole.headers[.contentType] == "image/png" && whole.headers[.eTag] == "\"\(pngBytes.sha256Hex)\"")
            #expect(whole.headers[.contentDisposition] == #"inline; filename="R_sum_ _final_.png"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.png"#)
            #expect(whole.headers[.lastModified]?.hasSuffix(" GMT") == true)
            // Ranges: the first bytes, a suffix, the middle, open-ended, and past the end.
            for (range, expected, contentRange) in [
                ("bytes=0-7", pngBytes.prefix(8), "bytes 0-7/2008"), ("bytes=-8", pngBytes.suffix(8), "bytes 2000-2007/2008"),
                ("bytes=100-199", pngBytes[100...199], "bytes 100-199/2008"), ("bytes=2000-", pngBytes.suffix(8), "bytes 2000-2007/2008"),
                ("bytes=2000-99999", pngBytes.suffix(8), "bytes 2000-2007/2008"),
            ] {
                let part = try await files.content(file.id, headers: [.range: range], as: owner)
                #expect(part.status == .partialContent && part.body == Data(expected) && part.headers[.contentRange] == contentRange, "\(range)")
            }
            let beyond = try await files.content(file.id, headers: [.range: "bytes=5000-"], as: owner)
            #expect(beyond.status == .rangeNotSatisfiable && beyond.headers[.contentRange] == "bytes */2008")
            #expect(try await files.content(file.id, headers: [.range: "bytes=0-1,5-6"], as: owner).status == .ok)
            let cached = try await files.content(file.id, headers: [.ifNoneMatch: whole.headers[.eTag]!], as: owner)
            #expect(cached.status == .notModified && cached.body.isEmpty)

            // Private: a stranger, or no one, learns nothing; shared with the contract's other party, it reads.
            for identity in [TestIdentity.person(stranger, .company), .person(company, .company)] {
                #expect(try await files.content(file.id, as: identity).status == .notFound)
                #expect(try await files.call(.get, "/files/\(file.id)", as: identity).status == .notFound)
            }
            #expect(try await files.content(file.id, as: nil).status == .notFound)
            #expect(try await files.call(.patch, "/files/\(file.id)", json: #"{"sharedWith":["\#(company)"]}"#, as: .person(company, .company)).status == .notFound)
            let shared = try await files.call(.patch, "/files/\(file.id)", json: #"{"sharedWith":["\#(company)"]}"#, as: owner)
            #expect(try shared.json(FileView.self).sharedWith == [company])
            #expect(try await files.content(file.id, as: .person(company, .company)).body == pngBytes)
            #expect(try await files.call(.get, "/files/\(file.id)", as: .person(company, .company)).json(FileView.self).sharedWith.isEmpty)
            #expect(try await files.content(file.id, as: .person(newId(), .admin)).status == .ok)
            #expect(try await files.call(.patch, "/files/\(file.id)", json: #"{"sharedWith":["nope"]}"#, as: owner).problemFields == ["sharedWith"])
            // Public: anyone, signed in or not.
            _ = try await files.call(.patch, "/files/\(file.id)", json: #"{"visibility":"public"}"#, as: owner)
            #expect(try await files.content(file.id, as: nil).body == pngBytes)
            #expect(try await files.content(file.id, as: nil).headers[.cacheControl] == "public, max-age=300")

            // Multipart, and the owner's list.
            files.time.advance(by: .seconds(1))
            let boundary = "blytz-boundary"
            var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\npublic\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\n".utf8)
            form += Data("Monday: inbox zero.\n".utf8) + Data("\r\n--\(boundary)--\r\n".utf8)
            let multipart = try await files.upload(form, type: "multipart/form-data; boundary=\(boundary)", as: owner)
            let notes = try multipart.json(FileView.self)
            #expect(multipart.status == .created && notes.filename == "notes.txt" && notes.contentType == "text/plain" && notes.visibility == .public)
            #expect(try await files.content(notes.id, as: nil).body == Data("Monday: inbox zero.\n".utf8))
            #expect(try await files.content(notes.id, as: nil).headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            #expect(try await files.upload(Data("--x\r\n\r\n".utf8), type: "multipart/form-data; boundary=x", as: owner).problemFields == ["file"])
            let mine = try await files.call(.get, "/files", as: owner).json(Page<FileView>.self)
            #expect(mine.items.map(\.id) == [notes.id, file.id])
            #expect(try await files.call(.get, "/files?limit=1", as: owner).json(Page<FileView>.self).nextCursor != nil)
            #expect(try await files.call(.get, "/files", as: .person(stranger, .company)).json(Page<FileView>.self).items.isEmpty)
            #expect(try await files.call(.get, "/files?ownerUserId=\(va)", as: .person(stranger, .company)).status == .forbidden)
            #expect(try await files.call(.get, "/files?ownerUserId=\(va)", as: .person(newId(), .admin)).json(Page<FileView>.self).items.count == 2)

            // Deleting removes the bytes and the metadata.
            #expect(try await files.call(.delete, "/files/\(file.id)", as: .person(stranger, .va)).status == .notFound)
            #expect(try await files.call(.delete, "/files/\(file.id)", as: owner).status == .noContent)
            #expect(try await files.storage.head(ObjectKey(FileRecord.objectKey(owner: va, id: file.id))!) == nil)
            #expect(try await files.content(file.id, as: owner).status == .notFound)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func portfoliosShowAVAsOwnPublicFilesFeaturedFirst(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Files>.with(engine) { files in
            let (va, other) = (newId(), newId())
            let owner = TestIdentity.person(va, .va)
            let image = try await files.upload(pngBytes, type: "image/png", query: ["visibility": "public"], as: owner).json(FileView.self)
            let hidden = try await files.upload(pngBytes, type: "image/png", as: owner).json(FileView.self)
            let theirs = try await files.upload(pngBytes, type: "image/png", query: ["visibility": "public"], as: .person(other, .va)).json(FileView.self)

            let body = #"{"title":"Inbox rescue","description":"From 4,000 emails to zero.","fileId":"\#(image.id)","category":"email","technologies":["Gmail","Zapier"],"projectUrl":"https://example.com/case","featured":false}"#
            #expect(try await files.call(.post, "/portfolio", json: body, as: .person(newId(), .company)).status == .forbidden)
            #expect(try await files.call(.post, "/portfolio", json: #"{"title":"x","fileId":"\#(theirs.id)"}"#, as: owner).problemFields == ["fileId"])
            #expect(try await files.call(.post, "/portfolio", json: #"{"title":"x","thumbnailFileId":"\#(hidden.id)"}"#, as: owner).problemFields == ["thumbnailFileId"])
            #expect(try await files.call(.post, "/portfolio", json: #"{"title":"","projectUrl":"ftp://x"}"#, as: owner).problemFields.sorted() == ["projectUrl", "title"])
            #expect(try await files.call(.post, "/portfolio", json: #"{"description":"no title"}"#, as: owner).problemFields == ["title"])
            let first = try await files.call(.post, "/portfolio", json: body, as: owner)
            #expect(first.status == .created)
            let item = try first.json(PortfolioItem.self)
            #expect(item.technologies == ["Gmail", "Zapier"] && item.fileId == image.id && !item.featured)
            files.time.advance(by: .seconds(1))
            let second = try await files.call(.post, "/portfolio", json: #"{"title":"Calendar cleanup"}"#, as: owner).json(PortfolioItem.self)
            files.time.advance(by: .seconds(1))
            let third = try await files.call(.post, "/portfolio", json: #"{"title":"Travel desk"}"#, as: owner).json(PortfolioItem.self)

            // Featured first, then newest; paginated.
            #expect(try await files.call(.patch, "/portfolio/\(item.id)", json: #"{"featured":true}"#, as: .person(other, .va)).status == .forbidden)
            #expect(try await files.call(.patch, "/portfolio/\(item.id)", json: #"{"featured":true,"technologies":["Gmail"]}"#, as: owner).json(PortfolioItem.self).featured)
            let reader = TestIdentity.person(newId(), .company)
            let all = try await files.call(.get, "/portfolio?vaUserId=\(va)", as: reader).json(Page<PortfolioItem>.self)
            #expect(all.items.map(\.id) == [item.id, third.id, second.id])
            let page1 = try await files.call(.get, "/portfolio?vaUserId=\(va)&limit=2", as: reader).json(Page<PortfolioItem>.self)
            let cursor = try #require(page1.nextCursor)
            let page2 = try await files.call(.get, "/portfolio?vaUserId=\(va)&limit=2&cursor=\(cursor)", as: reader).json(Page<PortfolioItem>.self)
            #expect(page1.items.map(\.id) + page2.items.map(\.id) == all.items.map(\.id) && page2.nextCursor == nil)
            #expect(try await files.call(.get, "/portfolio", as: reader).problemFields == ["vaUserId"])
            #expect(try await files.call(.get, "/portfolio/\(item.id)", as: reader).json(PortfolioItem.self).technologies == ["Gmail"])
            #expect(try await files.call(.get, "/portfolio/\(item.id)", as: nil).status == .unauthorized)

            // Its file deleted, the item stays without it; then the item goes.
            #expect(try await files.call(.delete, "/files/\(image.id)", as: owner).status == .noContent)
            #expect(try await files.call(.get, "/portfolio/\(item.id)", as: reader).json(PortfolioItem.self).fileId == nil)
            #expect(try await files.call(.delete, "/portfolio/\(item.id)", as: .person(other, .va)).status == .forbidden)
            #expect(try await files.call(.delete, "/portfolio/\(item.id)", as: owner).status == .noContent)
            #expect(try await files.call(.get, "/portfolio/\(item.id)", as: reader).status == .notFound)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aDeletedUsersFilesLeaveNothingBehind(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Files>.with(engine) { files in
            let (va, keeper) = (newId(), newId())
            let owner = TestIdentity.person(va, .va)
            let kept = try await files.upload(pngBytes, type: "image/png", as: .person(keeper, .va)).json(FileView.self)
            _ = try await files.call(.patch, "/files/\(kept.id)", json: #"{"sharedWith":["\#(va)"]}"#, as: .person(keeper, .va))
            let image = try await files.upload(pngBytes, type: "image/png", query: ["visibility": "public"], as: owner).json(FileView.self)
            _ = try await files.upload(Data("notes".utf8), type: "text/plain", as: owner)
            _ = try await files.call(.post, "/portfolio", json: #"{"title":"Work","fileId":"\#(image.id)"}"#, as: owner)
            #expect(try await files.storage.list(prefix: "users/\(va)/").count == 2)

            let deleted = UserDeleted(userId: va, role: .va)
            for _ in 0..<2 { #expect(try await files.deliver([deleted], to: "files-on-users", id: "user-deleted-1").isEmpty) }
            #expect(try await files.storage.list(prefix: "users/\(va)/").isEmpty)
            #expect(try await files.call(.get, "/files?ownerUserId=\(va)", as: .person(newId(), .admin)).json(Page<FileView>.self).items.isEmpty)
            #expect(try await files.call(.get, "/portfolio?vaUserId=\(va)", as: .person(keeper, .va)).json(Page<PortfolioItem>.self).items.isEmpty)
            #expect(try await files.call(.get, "/files/\(kept.id)", as: .person(keeper, .va)).json(FileView.self).sharedWith.isEmpty)
            #expect(try await files.storage.list(prefix: "users/\(keeper)/").count == 1)
        }
    }

    @Test func theDemoVAGetsAPortfolioWithAnImageOnce() async throws {
        try await ServiceHarness<Files>.with(.sqlite) { files in
            let va = newId()
            #expect(ContentType.detect(DemoPortfolio.image) == "image/png")
            #expect(try await DemoPortfolio.seed(va: va, context: files.context()).contains(#""skipped":false"#))
            #expect(try await DemoPortfolio.seed(va: va, context: files.context()).contains(#""skipped":true"#))
            let items = try await files.call(.get, "/portfolio?vaUserId=\(va)", as: .person(newId(), .company)).json(Page<PortfolioItem>.self).items
            #expect(items.count == 1 && items[0].featured)
            let image = try await files.content(try #require(items[0].fileId), as: nil)
            #expect(image.status == .ok && image.body == DemoPortfolio.image && image.headers[.contentType] == "image/png")
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func thePresignedFlowOnS3ChecksSizeTypeAndHash(engine: ServiceDatabase.Engine) async throws {
        try await Moto.with(checkingSignatures: false) { server in
            let bucket = "files-\(newId().prefix(8))"
            try await server.storage(bucket: bucket).createBucket()
            try await ServiceHarness<Files>.with(engine, configuration: server.settings(bucket: bucket).merging(["INLINE_BYTES": "1000"]) { $1 }) { files in
                files.time.set(Date())
                let va = newId()
                let owner = TestIdentity.person(va, .va)
                let bytes = pngBytes + Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0) })
                let ask = #"{"filename":"shot.png","contentType":"image/png","size":\#(bytes.count),"sha256":"\#(bytes.sha256Hex)","visibility":"private"}"#
                #expect(try await files.call(.post, "/files/uploads", json: #"{"filename":"x","contentType":"image/png","size":0,"sha256":"zz"}"#, as: owner).problemFields.sorted() == ["sha256", "size"])
                let ticket = try await files.call(.post, "/files/uploads", json: ask, as: owner).json(UploadTicket.self)
                #expect(ticket.file.status == .pending && ticket.method == "PUT" && ticket.uploadUrl.hasPrefix(server.endpoint + "/" + bucket + "/users/\(va)/"))
                #expect(try await files.content(ticket.file.id, as: owner).status == .conflict)
                #expect(try await files.call(.post, "/files/\(ticket.file.id)/complete", as: owner).status == .conflict)

                // Bytes of the wrong size are refused and removed; the right ones complete it.
                #expect(try await send(.PUT, ticket.uploadUrl, body: bytes.prefix(100)).status == 200)
                #expect(try await files.call(.post, "/files/\(ticket.file.id)/complete", as: owner).problemFields == ["size"])
                #expect(try await files.storage.head(ObjectKey(FileRecord.objectKey(owner: va, id: ticket.file.id))!) == nil)
                #expect(try await send(.PUT, ticket.uploadUrl, body: bytes).status == 200)
                #expect(try await files.call(.post, "/files/\(ticket.file.id)/complete", as: .person(newId(), .va)).status == .notFound)
                let done = try await files.call(.post, "/files/\(ticket.file.id)/complete", as: owner)
                #expect(try done.json(FileView.self).status == .ready, "\(String(decoding: done.body, as: UTF8.self))")
                #expect(try await files.published(FileUploaded.self).map(\.sha256) == [bytes.sha256Hex])

                // Larger than INLINE_BYTES: a redirect to a short-lived presigned GET, which honours Range.
                let download = try await files.content(ticket.file.id, as: owner)
                #expect(download.status == .found)
                let location = try #require(download.headers[.location])
                #expect(try await send(.GET, location).body == bytes)
                #expect(try await send(.GET, location, headers: ["Range": "bytes=0-7"]).body == bytes.prefix(8))

                // A declared hash the bytes do not match, and a type they are not.
                let liar = try await files.call(.post, "/files/uploads", json: #"{"filename":"a.png","contentType":"image/png","size":\#(elfBytes.count)}"#, as: owner).json(UploadTicket.self)
                #expect(try await send(.PUT, liar.uploadUrl, body: elfBytes).status == 200)
                let refused = try await files.call(.post, "/files/\(liar.file.id)/complete", as: owner)
                #expect(refused.status == .unsupportedMediaType && refused.problemFields == ["contentType"])
                let wrongHash = try await files.call(.post, "/files/uploads", json: #"{"filename":"b.png","contentType":"image/png","size":\#(pngBytes.count)}"#, as: owner).json(UploadTicket.self)
                #expect(try await send(.PUT, wrongHash.uploadUrl, body: pngBytes).status == 200)
                #expect(try await files.call(.post, "/files/\(wrongHash.file.id)/complete", json: #"{"sha256":"\#(String(repeating: "0", count: 64))"}"#, as: owner).problemFields == ["sha256"])

                // Unfinished uploads go when they expire.
                files.time.advance(by: .seconds(3601))
                try await files.fire("files-sweep-uploads")
                #expect(try await files.call(.get, "/files/\(liar.file.id)", as: owner).status == .notFound)
                #expect(try await files.call(.get, "/files/\(ticket.file.id)", as: owner).status == .ok)
            }
        }
    }
}

extension Data {
    var sha256Hex: String { SigV4Signer.hex(SigV4Signer.sha256(self)) }
}
