import Blytz
import BlytzData
import BlytzEvents
import BlytzTesting
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

/// The marketplace through the running runner with real worker processes, beside the real user and
/// communication services, with a stand-in contracts service on a real socket — on SQLite and PostgreSQL.
@Suite(.serialized, .timeLimit(.minutes(4))) struct MarketplaceThroughRunnerTests {
    struct Item: Decodable { var id: String }
    struct Page<Element: Decodable>: Decodable { var items: [Element]; var nextCursor: String? }
    struct Ranked: Decodable { var vaUserId: String; var score: Double }
    struct RankedJob: Decodable { var job: Item; var score: Double }
    struct Hire: Decodable { var id: String; var status: String; var contractId: String?; var vaUserId: String }
    struct Proposal: Decodable { var id: String; var status: String }

    func person(_ api: Backend, _ role: String, skills: String = #"["Excel","Zendesk"]"#) async throws -> (token: String, id: String) {
        let session = try await api.register(role)
        let profile = role == "va"
            ? #"{"name":"Vera","country":"PH","timezone":"Asia/Manila","hourlyRateCents":1000,"skills":\#(skills)}"#
            : #"{"name":"Acme","country":"US","industry":"retail"}"#
        #expect(try await api.call(.POST, role == "va" ? "/profiles/va" : "/profiles/company", token: session.accessToken, json: profile).status == 201)
        return (session.accessToken, try #require(session.user?.id))
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func fromPostingToHireAndMatch(engine: ServiceDatabase.Engine) async throws {
        let contracts = Router()
        contracts.post("/contracts") { request, _ -> Response in
            // The marketplace calls as itself, for the company, with a key derived from the proposal.
            let key = request.headers[.idempotencyKey] ?? ""
            let status: HTTPResponse.Status = key.hasPrefix("accept-") && request.headers[.authorization] != nil ? .created : .unauthorized
            let body = #"{"id":"\#(UUID().uuidString.lowercased())","status":"pending","companyUserId":"c","vaUserId":"v","proposalId":"\#(key.dropFirst(7))"}"#
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        try await StandIn.serve(contracts) { port in
            try await Backend.with(engine, environment: ["BLYTZ_SERVICE_URL_CONTRACTS": "http://127.0.0.1:\(port)"]) { api in
                let (company, companyId) = try await person(api, "company")
                let (va, vaId) = try await person(api, "va")
                let (other, _) = try await person(api, "va", skills: #"["Canva"]"#)
                let job = #"{"title":"Support on Zendesk","description":"Tickets and email.","jobType":"hourly","rateMinCents":800,"rateMaxCents":1500,"skillsRequired":["zendesk","excel"],"category":"support","timezone":"Asia/Manila","status":"open"}"#
                let posted = try await api.call(.POST, "/jobs", token: company, json: job)
                #expect(posted.status == 201)
                let jobId = try posted.json(Item.self).id
                #expect(try await api.call(.POST, "/jobs", token: va, json: job).status == 403)

                // Search finds it; the VA's copy arrives by ProfileUpdated, then the proposal is taken.
                #expect(try await api.call(.GET, "/jobs?skills=zendesk&q=support", token: va).json(Page<Item>.self).items.map(\.id) == [jobId])
                #expect(try await api.call(.GET, "/jobs/categories").object["items"] as? [[String: Any]] != nil)
                let proposal = #"{"jobPostingId":"\#(jobId)","coverLetter":"I know Zendesk well.","bidType":"hourly","hourlyRateCents":1100}"#
                var sent = try await api.call(.POST, "/proposals", token: va, json: proposal)
                #expect(try await eventually { sent = try await api.call(.POST, "/proposals", token: va, json: proposal); return sent.status != 403 })
                let proposalId = try #require(try await api.call(.GET, "/proposals?jobPostingId=\(jobId)", token: company).json(Page<Proposal>.self).items.first?.id)
                #expect(try await api.call(.POST, "/proposals", token: va, json: proposal).status == 409)
                // The user service lists the VA's applications through the marketplace.
                #expect(try await api.call(.GET, "/users/\(vaId)/applications", token: va).json(Page<Proposal>.self).items.map(\.id) == [proposalId])

                // Matching both ways: the VA who has the skills ranks first; the VA is offered the job.
                _ = try await eventually { try await api.call(.GET, "/matches/jobs", token: other).status == 200 }
                let ranked = try await api.call(.GET, "/matches/recommendations?jobPostingId=\(jobId)", token: company).json(Page<Ranked>.self)
                #expect(ranked.items.map(\.vaUserId) == [vaId])
                #expect(try await api.call(.GET, "/matches/recommendations?jobPostingId=\(jobId)", token: va).status == 403)
                #expect(try await api.call(.GET, "/matches/jobs", token: va).json(Page<RankedJob>.self).items.map(\.job.id) == [jobId])

                // A mutual like: one match, and both sides are notified.
                #expect(try await api.call(.POST, "/matches/votes", token: company, json: #"{"jobPostingId":"\#(jobId)","vaUserId":"\#(vaId)","vote":"like"}"#).status == 200)
                let liked = try await api.call(.POST, "/matches/votes", token: va, json: #"{"jobPostingId":"\#(jobId)","vote":"like"}"#)
                #expect((liked.object["match"] as? [String: Any])?["status"] as? String == "active")
                #expect(try await api.call(.GET, "/matches", token: company).json(Page<Item>.self).items.count == 1)
                #expect(try await eventually { (try await api.call(.GET, "/notifications", token: va).json(Page<Item>.self).items.count) >= 1 })

                // The accept: the hire and its contract, through the stand-in; then both see the hire.
                #expect(try await api.call(.POST, "/proposals/\(proposalId)/accept", token: va).status == 403)
                let accepted = try await api.call(.POST, "/proposals/\(proposalId)/accept", token: company, json: #"{"fill":true}"#)
                #expect(accepted.status == 201, "\(accepted.text)")
                let hire = try accepted.json(Hire.self)
                #expect(hire.status == "active" && hire.contractId != nil && hire.vaUserId == vaId)
                #expect(try await api.call(.GET, "/jobs/hires", token: va).json(Page<Hire>.self).items.map(\.id) == [hire.id])
                #expect(try await api.call(.GET, "/jobs/hires", token: company).json(Page<Hire>.self).items.map(\.id) == [hire.id])
                #expect(try await api.call(.GET, "/jobs/\(jobId)", token: other).object["status"] as? String == "filled")

                // A deleted VA's pending proposals are withdrawn.
                let second = try await api.call(.POST, "/jobs", token: company, json: job.replacingOccurrences(of: "Support on Zendesk", with: "More support"))
                let secondId = try second.json(Item.self).id
                let pending = try await api.call(.POST, "/proposals", token: va, json: proposal.replacingOccurrences(of: jobId, with: secondId))
                let pendingId = try pending.json(Item.self).id
                let admin = try await api.admin()
                #expect(try await api.call(.DELETE, "/users/\(vaId)", token: admin.accessToken).status == 204)
                #expect(try await eventually { try await api.call(.GET, "/proposals/\(pendingId)", token: company).object["status"] as? String == "withdrawn" })
                _ = companyId
            }
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func seedFillsTheCopyAndGivesTheDemoCompanyJobs(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            var environment = api.settings
            for (service, url) in api.runner.urls.services { environment["BLYTZ_SERVICE_URL_\(service.uppercased())"] = url }
            let seeded = try blytz(["seed", "--data-dir", api.runner.dataDirectory], environment: environment)
            #expect(seeded.status == 0, "\(seeded.output)")
            #expect(seeded.output.contains(#""postings":5"#), "\(seeded.output)")
            let again = try blytz(["seed", "--data-dir", api.runner.dataDirectory], environment: environment)
            #expect(again.status == 0 && again.output.contains(#""postings":0"#), "\(again.output)")
            let login = try await api.login("company@demo.blytz.work", "blytz-demo-pass").json(Backend.Session.self)
            let mine = try await api.call(.GET, "/jobs/mine", token: login.accessToken).json(Page<Item>.self)
            #expect(mine.items.count == 5)
            let ranked = try await api.call(.GET, "/matches/recommendations?jobPostingId=\(try #require(mine.items.first?.id))", token: login.accessToken).json(Page<Ranked>.self)
            #expect(!ranked.items.isEmpty)
            let proposals = try await api.call(.GET, "/jobs?limit=10", token: login.accessToken).json(Page<Item>.self)
            #expect(proposals.items.count == 5)
            // The backfill alone, again: the same profiles, nothing duplicated.
            let filled = try blytz(["marketplace", "backfill", "--data-dir", api.runner.dataDirectory], environment: environment)
            #expect(filled.status == 0 && filled.output.contains(#""vaProfiles":4"#) && filled.output.contains(#""companyProfiles":1"#), "\(filled.output)")
        }
    }
}
