import Blytz
import BlytzData
import BlytzEvents
import BlytzTesting
import Foundation
import HTTPTypes
import Testing

@testable import Marketplace

/// Postings and proposals in process, on both engines: roles and ownership on every route, the states
/// through the API, and the counts and the one-proposal rule under concurrent requests.
@Suite struct MarketplaceInProcessTests {
    static let fixedJob = #"{"title":"Inbox zero for a busy founder","description":"Triage and answer email daily.","jobType":"fixed","budgetCents":50000,"skillsRequired":["Email","calendar"],"timezone":"Asia/Manila"}"#
    static let proposal = #"{"coverLetter":"I have done this for three founders.","bidType":"fixed","bidCents":45000}"#

    static func id() -> String { UUID().uuidString.lowercased() }

    static func post(_ market: ServiceHarness<Marketplace>, as company: String, publish: Bool = true) async throws -> String {
        let body = publish ? Self.fixedJob.replacingOccurrences(of: #""jobType""#, with: #""status":"open","jobType""#) : Self.fixedJob
        let reply = try await market.call(.post, "/jobs", json: body, as: .person(company, .company))
        #expect(reply.status == .created, "\(String(decoding: reply.body, as: UTF8.self))")
        return try reply.json(PostingView.self).id
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func postingsThroughTheirStatesByTheirOwnersOnly(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let company = Self.id(), other = Self.id(), va = Self.id(), admin = Self.id()
            #expect(try await market.call(.post, "/jobs", json: Self.fixedJob, as: .person(va, .va)).status == .forbidden)
            #expect(try await market.call(.post, "/jobs", json: Self.fixedJob).status == .unauthorized)
            let invalid = try await market.call(.post, "/jobs", json: #"{"title":"x","jobType":"hourly","rateMinCents":500,"rateMaxCents":100,"timezone":"Mars/Base"}"#, as: .person(company, .company))
            #expect(invalid.status == .unprocessableContent && Set(invalid.problemFields) == ["title", "timezone"])
            let noTerms = try await market.call(.post, "/jobs", json: #"{"title":"Bookkeeping","description":"Monthly books.","jobType":"hourly"}"#, as: .person(company, .company))
            #expect(noTerms.status == .unprocessableContent && noTerms.problemFields == ["rateMinCents"])

            // A draft: no JobPosted, and only its company and admins see it.
            let draft = try await Self.post(market, as: company, publish: false)
            #expect(try await market.published(JobPosted.self).isEmpty)
            #expect(try await market.call(.get, "/jobs/\(draft)", as: .person(va, .va)).status == .notFound)
            #expect(try await market.call(.patch, "/jobs/\(draft)", json: #"{"title":"Mine now"}"#, as: .person(other, .company)).status == .notFound)
            #expect(try await market.call(.get, "/jobs/\(draft)", as: .person(admin, .admin)).status == .ok)
            // Published by an edit: JobPosted once; now others see it but may not change it.
            let published = try await market.call(.patch, "/jobs/\(draft)", json: #"{"status":"open","budgetCents":60000}"#, as: .person(company, .company))
            #expect(published.status == .ok)
            #expect(try published.json(PostingView.self).status == .open)
            #expect(try await market.published(JobPosted.self).map(\.jobPostingId) == [draft])
            #expect(try await market.published(JobPosted.self).first?.skillsRequired == ["email", "calendar"])
            let retagged = try await market.call(.patch, "/jobs/\(draft)", json: #"{"skillsRequired":["Calendar"," xero ","calendar"],"tags":["Remote"]}"#, as: .person(company, .company))
            #expect(try retagged.json(PostingView.self).skillsRequired == ["calendar", "xero"])
            #expect(try await market.call(.get, "/jobs/\(draft)", as: .person(va, .va)).json(PostingView.self).tags == ["remote"])
            #expect(try await market.call(.patch, "/jobs/\(draft)", json: #"{"title":"Mine now"}"#, as: .person(other, .company)).status == .forbidden)
            #expect(try await market.call(.patch, "/jobs/\(draft)", json: #"{"status":"closed"}"#, as: .person(company, .company)).status == .unprocessableContent)
            // Closed: no more edits or closing, each refusal naming the state.
            #expect(try await market.call(.post, "/jobs/\(draft)/close", as: .person(other, .company)).status == .forbidden)
            #expect(try await market.call(.post, "/jobs/\(draft)/close", as: .person(company, .company)).status == .ok)
            let again = try await market.call(.post, "/jobs/\(draft)/close", as: .person(company, .company))
            #expect(again.status == .conflict && again.problem?.detail == "The posting is closed; it cannot be closed.")
            #expect(try await market.call(.patch, "/jobs/\(draft)", json: #"{"title":"Reopened?"}"#, as: .person(company, .company)).status == .conflict)
            // Published at once on create, and listed as the company's own, newest first.
            market.time.advance(by: .seconds(1))
            let open = try await Self.post(market, as: company)
            #expect(try await market.published(JobPosted.self).count == 2)
            let mine = try await market.call(.get, "/jobs/mine", as: .person(company, .company)).json(Page<PostingView>.self)
            #expect(mine.items.map(\.id) == [open, draft])
            #expect(try await market.call(.get, "/jobs/mine?status=open", as: .person(company, .company)).json(Page<PostingView>.self).items.map(\.id) == [open])
            #expect(try await market.call(.get, "/jobs/mine", as: .person(va, .va)).status == .forbidden)
            #expect(try await market.call(.get, "/jobs/mine?status=gone", as: .person(company, .company)).problemFields == ["status"])
            #expect(try await market.call(.get, "/jobs/not-a-uuid", as: .person(va, .va)).status == .notFound)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func viewsAndProposalCountsStayExactUnderConcurrency(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let company = Self.id()
            let job = try await Self.post(market, as: company)
            let vas = (0..<12).map { _ in Self.id() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for va in vas {
                    group.addTask { () async throws -> Void in
                        try await market.vaProfile(va)
                        #expect(try await market.call(.get, "/jobs/\(job)", as: .person(va, .va)).status == .ok)
                        let body = Self.proposal.replacingOccurrences(of: "{", with: #"{"jobPostingId":"\#(job)","#)
                        #expect(try await market.call(.post, "/proposals", json: body, as: .person(va, .va)).status == .created)
                    }
                }
                try await group.waitForAll()
            }
            // The owner's own views are not counted.
            let posting = try await market.call(.get, "/jobs/\(job)", as: .person(company, .company)).json(PostingView.self)
            #expect(posting.views == 12 && posting.proposalCount == 12)
            #expect(try await market.published(ProposalSubmitted.self).count == 12)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func categoriesCountOpenJobsThroughEveryChange(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let company = Self.id()
            func posting(_ category: String, open: Bool) async throws -> String {
                let body = Self.fixedJob.replacingOccurrences(of: "{", with: #"{"category":"\#(category)",\#(open ? #""status":"open","# : "")"#)
                return try await market.call(.post, "/jobs", json: body, as: .person(company, .company)).json(PostingView.self).id
            }
            func counts() async throws -> [String: Int] {
                let listed = try await market.call(.get, "/jobs/categories").json(ListCategories.Output.self)
                return Dictionary(uniqueKeysWithValues: listed.items.map { ($0.category, $0.openJobs) })
            }
            // Opened at once concurrently, one by a later publish, one left a draft.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 { group.addTask { () async throws -> Void in _ = try await posting("admin", open: true) } }
                try await group.waitForAll()
            }
            let books = try await posting("Bookkeeping", open: false)
            let draft = try await posting("admin", open: false)
            #expect(try await counts() == ["admin": 6])
            _ = try await market.call(.patch, "/jobs/\(books)", json: #"{"status":"open"}"#, as: .person(company, .company))
            #expect(try await counts() == ["admin": 6, "bookkeeping": 1])
            // Recategorised while open, then closed; a draft's edits count for nothing.
            _ = try await market.call(.patch, "/jobs/\(books)", json: #"{"category":"admin"}"#, as: .person(company, .company))
            #expect(try await counts() == ["admin": 7])
            _ = try await market.call(.post, "/jobs/\(books)/close", as: .person(company, .company))
            _ = try await market.call(.patch, "/jobs/\(draft)", json: #"{"category":"design"}"#, as: .person(company, .company))
            #expect(try await counts() == ["admin": 6])
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func oneProposalPerVAPerJobEvenWhenSentAtOnce(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let job = try await Self.post(market, as: Self.id())
            let va = Self.id()
            try await market.vaProfile(va)
            let body = Self.proposal.replacingOccurrences(of: "{", with: #"{"jobPostingId":"\#(job)","#)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 { group.addTask { try await market.call(.post, "/proposals", json: body, as: .person(va, .va)).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1 && statuses.filter { $0 == .conflict }.count == 7, "\(statuses)")
            let posting = try await market.call(.get, "/jobs/\(job)", as: .person(va, .va)).json(PostingView.self)
            #expect(posting.proposalCount == 1)
            #expect(try await market.published(ProposalSubmitted.self).count == 1)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func proposalsThroughTheirStatesByTheRightParty(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let company = Self.id(), other = Self.id(), va = Self.id(), stranger = Self.id()
            let job = try await Self.post(market, as: company)
            let body = Self.proposal.replacingOccurrences(of: "{", with: #"{"jobPostingId":"\#(job)","#)
            #expect(try await market.call(.post, "/proposals", json: body, as: .person(company, .company)).status == .forbidden)
            // A VA without a profile the marketplace knows of may not propose.
            let unknown = try await market.call(.post, "/proposals", json: body, as: .person(va, .va))
            #expect(unknown.status == .forbidden && unknown.problem?.detail?.contains("profile") == true)
            try await market.vaProfile(va)
            let missing = try await market.call(.post, "/proposals", json: #"{"bidType":"hourly"}"#, as: .person(va, .va))
            #expect(missing.status == .unprocessableContent && Set(missing.problemFields) == ["jobPostingId", "coverLetter"])
            let noRate = try await market.call(.post, "/proposals", json: #"{"jobPostingId":"\#(job)","coverLetter":"Hi","bidType":"hourly"}"#, as: .person(va, .va))
            #expect(noRate.problemFields == ["hourlyRateCents"])
            let sent = try await market.call(.post, "/proposals", json: body, as: .person(va, .va))
            #expect(sent.status == .created)
            let proposal = try sent.json(ProposalView.self)
            #expect(proposal.status == .pending && proposal.jobTitle == "Inbox zero for a busy founder" && proposal.currency == "USD")
            let submitted = try #require(try await market.published(ProposalSubmitted.self).first)
            #expect(submitted.companyUserId == company && submitted.vaUserId == va && submitted.bidCents == 45000)

            // Who sees it: the VA, the company, admins; not another company or VA.
            #expect(try await market.call(.get, "/proposals/\(proposal.id)", as: .person(company, .company)).status == .ok)
            #expect(try await market.call(.get, "/proposals/\(proposal.id)", as: .person(other, .company)).status == .notFound)
            #expect(try await market.call(.get, "/proposals/\(proposal.id)", as: .person(stranger, .va)).status == .notFound)
            // Lists: the company's for its job; a VA's own; by VA for themself, admins and the user service acting for them.
            #expect(try await market.call(.get, "/proposals?jobPostingId=\(job)", as: .person(company, .company)).json(Page<ProposalView>.self).items.map(\.id) == [proposal.id])
            #expect(try await market.call(.get, "/proposals?jobPostingId=\(job)", as: .person(stranger, .va)).json(Page<ProposalView>.self).items.isEmpty)
            #expect(try await market.call(.get, "/proposals", as: .person(va, .va)).json(Page<ProposalView>.self).items.map(\.id) == [proposal.id])
            #expect(try await market.call(.get, "/proposals", as: .person(company, .company)).status == .forbidden)
            #expect(try await market.call(.get, "/proposals?vaUserId=\(va)", as: .person(stranger, .va)).status == .forbidden)
            let viaUsers = try await market.call(.get, "/proposals?vaUserId=\(va)&limit=5", as: .service(.users, actingFor: (va, .va)))
            let summaries = try viaUsers.json(Page<ProposalSummary>.self)
            #expect(summaries.items.map(\.id) == [proposal.id] && summaries.items.first?.jobTitle == "Inbox zero for a busy founder")
            #expect(try await market.call(.get, "/proposals?vaUserId=nope", as: .person(va, .va)).problemFields == ["vaUserId"])

            // Edits by the VA while pending; a reject by the company; then nothing more.
            #expect(try await market.call(.patch, "/proposals/\(proposal.id)", json: #"{"bidCents":40000}"#, as: .person(company, .company)).status == .forbidden)
            let edited = try await market.call(.patch, "/proposals/\(proposal.id)", json: #"{"bidCents":40000}"#, as: .person(va, .va))
            #expect(try edited.json(ProposalView.self).bidCents == 40000)
            #expect(try await market.call(.patch, "/proposals/\(proposal.id)", json: #"{"jobPostingId":"\#(job)"}"#, as: .person(va, .va)).problemFields == ["jobPostingId"])
            #expect(try await market.call(.post, "/proposals/\(proposal.id)/reject", as: .person(va, .va)).status == .forbidden)
            #expect(try await market.call(.post, "/proposals/\(proposal.id)/reject", as: .person(company, .company)).status == .ok)
            let late = try await market.call(.post, "/proposals/\(proposal.id)/withdraw", as: .person(va, .va))
            #expect(late.status == .conflict && late.problem?.detail == "The proposal is rejected; it cannot be withdrawn.")
            #expect(try await market.call(.patch, "/proposals/\(proposal.id)", json: #"{"bidCents":1}"#, as: .person(va, .va)).status == .conflict)

            // A withdrawal takes the proposal off the count; a closed job takes no proposals.
            let second = Self.id()
            try await market.vaProfile(second)
            let another = try await market.call(.post, "/proposals", json: body, as: .person(second, .va)).json(ProposalView.self)
            #expect(try await market.call(.post, "/proposals/\(another.id)/withdraw", as: .person(second, .va)).status == .ok)
            #expect(try await market.call(.get, "/jobs/\(job)", as: .person(company, .company)).json(PostingView.self).proposalCount == 1)
            #expect(try await market.call(.post, "/jobs/\(job)/close", as: .person(company, .company)).status == .ok)
            let closed = try await market.call(.post, "/proposals", json: body, as: .person(Self.id(), .va))
            #expect(closed.status == .conflict && closed.problem?.detail == "The posting is closed; it cannot be sent proposals.")
        }
    }
}
