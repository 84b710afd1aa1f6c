import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import Marketplace

/// The copy of people from the user service's events, and job search, on both engines.
@Suite struct PeopleAndSearchTests {
    static func id() -> String { UUID().uuidString.lowercased() }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func theCopyKeepsTheNewestStateOncePerEvent(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let va = Self.id()
            func person() async throws -> PersonRecord? { try await market.database.withConnection { try await PersonRecord.find(va, on: $0) } }
            func profile(rate: Int, skills: [String]) -> ProfileUpdated {
                ProfileUpdated(userId: va, kind: .va, deleted: false, vaProfile: VAProfileSnapshot(
                    userId: va, name: "Maria", bio: "", country: "PH", timezone: "Asia/Manila", hourlyRateCents: rate, currency: "USD", skills: skills,
                    availability: "full-time", available: true, averageRating: 5, totalReviews: 1, completedJobs: 1, verificationLevel: "none",
                    avatarFileId: nil, updatedAt: market.time.now.iso))
            }
            let start = market.time.now
            try await market.deliver([profile(rate: 900, skills: ["Zendesk", "Excel"])], to: "marketplace-people", id: "e1", at: start.addingTimeInterval(10))
            var copy = try #require(try await person())
            #expect(copy.isActiveVA && copy.hourlyRateCents == 900 && copy.utcOffsetMinutes == 480 && copy.standing == 0.1 + 0.125)
            #expect(try await market.database.withConnection { try await PersonRecord.skills(of: [va], on: $0) }[va] == ["zendesk", "excel"])
            // An older event delivered late changes nothing; a repeat of an applied one is skipped.
            try await market.deliver([profile(rate: 500, skills: ["Canva"])], to: "marketplace-people", id: "e0", at: start)
            try await market.deliver([profile(rate: 700, skills: ["Canva"])], to: "marketplace-people", id: "e1", at: start.addingTimeInterval(20))
            copy = try #require(try await person())
            #expect(copy.hourlyRateCents == 900)
            // Suspended: no longer a VA who may propose or be recommended; back to active by a newer event.
            try await market.deliver([UserUpdated(userId: va, fields: ["status"], role: nil, status: .suspended)], to: "marketplace-people", at: start.addingTimeInterval(30))
            #expect(try await person()?.isActiveVA == false)
            try await market.deliver([UserUpdated(userId: va, fields: ["status"], role: nil, status: .active)], to: "marketplace-people", at: start.addingTimeInterval(25))
            #expect(try await person()?.status == .suspended)
            try await market.deliver([UserUpdated(userId: va, fields: ["status"], role: nil, status: .active)], to: "marketplace-people", at: start.addingTimeInterval(40))
            #expect(try await person()?.isActiveVA == true)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aDeletedUsersPostingsCloseAndTheirProposalsAreWithdrawn(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let company = Self.id(), va = Self.id(), otherCompany = Self.id()
            try await market.companyProfile(company)
            try await market.vaProfile(va)
            let job = #"{"title":"Bookkeeping","description":"Monthly books.","jobType":"fixed","budgetCents":30000,"category":"finance","status":"open"}"#
            let mine = try await market.call(.post, "/jobs", json: job, as: .person(company, .company)).json(PostingView.self).id
            let theirs = try await market.call(.post, "/jobs", json: job, as: .person(otherCompany, .company)).json(PostingView.self).id
            let proposal = #"{"jobPostingId":"\#(theirs)","coverLetter":"Hi","bidType":"fixed","bidCents":25000}"#
            let sent = try await market.call(.post, "/proposals", json: proposal, as: .person(va, .va)).json(ProposalView.self).id
            #expect(try await market.call(.get, "/jobs/categories").json(ListCategories.Output.self).items.first?.openJobs == 2)

            for user in [(company, Role.company), (va, .va)] {
                // Delivered twice: applied once.
                for _ in 0..<2 { try await market.deliver([UserDeleted(userId: user.0, role: user.1)], to: "marketplace-people", id: "deleted-\(user.0)") }
            }
            #expect(try await market.call(.get, "/jobs/\(mine)", as: .person(va, .va)).json(PostingView.self).status == .closed)
            #expect(try await market.call(.get, "/proposals/\(sent)", as: .person(otherCompany, .company)).json(ProposalView.self).status == .withdrawn)
            #expect(try await market.call(.get, "/jobs/\(theirs)", as: .person(otherCompany, .company)).json(PostingView.self).proposalCount == 0)
            #expect(try await market.call(.get, "/jobs/categories").json(ListCategories.Output.self).items.first?.openJobs == 1)
            // Deleted is final: a later profile event does not bring them back.
            try await market.vaProfile(va)
            #expect(try await market.database.withConnection { try await PersonRecord.find(va, on: $0) }?.status == .deleted)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func searchFiltersSortsAndPagesStablyUnderInserts(engine: ServiceDatabase.Engine) async throws {
        // A low threshold, so skill and word filters take both plans (driving, and probed row by row).
        try await ServiceHarness<Marketplace>.with(engine, configuration: ["SEARCH_RARE_FILTER": "3"]) { market in
            let company = Self.id(), va = Self.id()
            func post(_ fields: String) async throws -> String {
                market.time.advance(by: .seconds(1))
                let reply = try await market.call(.post, "/jobs", json: "{\"status\":\"open\",\"description\":\"Remote work.\",\(fields)}", as: .person(company, .company))
                #expect(reply.status == .created, "\(String(decoding: reply.body, as: UTF8.self))")
                return try reply.json(PostingView.self).id
            }
            let support = try await post(#""title":"Customer support on Zendesk","jobType":"hourly","rateMinCents":800,"rateMaxCents":1200,"skillsRequired":["zendesk","email"],"category":"support","experienceLevel":"entry","remote":true"#)
            let books = try await post(#""title":"Bookkeeping in QuickBooks","jobType":"fixed","budgetCents":50000,"skillsRequired":["quickbooks","excel"],"category":"finance","experienceLevel":"expert","remote":false,"tags":["accounting"]"#)
            let sheets = try await post(#""title":"Spreadsheet clean-up","jobType":"fixed","budgetCents":20000,"skillsRequired":["excel"],"category":"data","experienceLevel":"entry","remote":true"#)
            let inbox = try await post(#""title":"Support inbox triage","jobType":"hourly","rateMinCents":600,"rateMaxCents":900,"skillsRequired":["email","zendesk"],"category":"support","experienceLevel":"intermediate","remote":true"#)
            let draft = try await market.call(.post, "/jobs", json: #"{"title":"Secret support plan","description":"Zendesk.","jobType":"fixed","budgetCents":1000}"#, as: .person(company, .company)).json(PostingView.self).id
            func search(_ query: String) async throws -> [String] {
                let reply = try await market.call(.get, "/jobs?\(query)", as: .person(va, .va))
                #expect(reply.status == .ok, "\(query): \(String(decoding: reply.body, as: UTF8.self))")
                return try reply.json(Page<PostingView>.self).items.map(\.id)
            }
            #expect(try await search("") == [inbox, sheets, books, support])
            #expect(try await search("q=supp") == [inbox, support])
            #expect(try await search("q=support+zendesk") == [support])
            #expect(try await search("q=accounting") == [books])
            #expect(try await search("skills=excel") == [sheets, books])
            #expect(try await search("skills=excel,quickbooks") == [books])
            #expect(try await search("skills=zendesk,email&experienceLevel=entry") == [support])
            // A posting's skills edited: searched by the new ones only (on PostgreSQL, the array the GIN
            // index holds follows its rows).
            let edited = try await market.call(.patch, "/jobs/\(sheets)", json: #"{"skillsRequired":["excel","quickbooks"]}"#, as: .person(company, .company))
            #expect(edited.status == .ok)
            #expect(try await search("skills=excel,quickbooks") == [sheets, books])
            #expect(try await search("skills=quickbooks&q=spreadsheet") == [sheets])
            _ = try await market.call(.patch, "/jobs/\(sheets)", json: #"{"skillsRequired":["excel"]}"#, as: .person(company, .company))
            #expect(try await search("skills=excel,quickbooks") == [books])
            if engine == .postgres {
                // The two skills' postings come from the GIN index, where a scan of every row is not an option.
                let plan = try await market.database.transaction { sql in
                    try await sql.raw("SET LOCAL enable_seqscan = off").run()
                    return try await sql.raw("EXPLAIN SELECT id FROM job_postings WHERE skill_terms @> \(bind: ["excel", "quickbooks"])").all().map { try $0.decode(column: "QUERY PLAN", as: String.self) }
                }
                #expect(plan.contains { $0.contains("job_postings_skill_terms") }, "\(plan)")
            }
            #expect(try await search("category=support&jobType=hourly") == [inbox, support])
            #expect(try await search("remote=false") == [books])
            #expect(try await search("minBudget=1000&maxBudget=30000") == [sheets, support])
            #expect(try await search("sort=budget") == [books, sheets, support, inbox])
            #expect(try await search("sort=budget&jobType=hourly&minBudget=1000") == [support])
            #expect(try await search("q=secret").isEmpty)
            let closed = try await search("status=closed")
            #expect(!closed.contains(draft))
            #expect(try await market.call(.get, "/jobs?sort=cheap&jobType=gig&minBudget=-1", as: .person(va, .va)).problemFields.sorted() == ["jobType", "minBudget", "sort"])
            #expect(try await market.call(.get, "/jobs?status=draft", as: .person(va, .va)).problemFields == ["status"])
            #expect(try await market.call(.get, "/jobs").status == .unauthorized)

            // Pages: a posting published between pages neither repeats nor shifts the next page.
            let first = try await market.call(.get, "/jobs?limit=2", as: .person(va, .va)).json(Page<PostingView>.self)
            #expect(first.items.map(\.id) == [inbox, sheets])
            _ = try await post(#""title":"Newest job","jobType":"fixed","budgetCents":10000"#)
            let cursor = try #require(first.nextCursor)
            let second = try await market.call(.get, "/jobs?limit=2&cursor=\(cursor)", as: .person(va, .va)).json(Page<PostingView>.self)
            #expect(second.items.map(\.id) == [books, support] && second.nextCursor == nil)
            #expect(try await market.call(.get, "/jobs?limit=2&sort=budget&cursor=\(cursor)", as: .person(va, .va)).problemFields == ["cursor"])
            let byBudget = try await market.call(.get, "/jobs?limit=3&sort=budget", as: .person(va, .va)).json(Page<PostingView>.self)
            let rest = try await market.call(.get, "/jobs?limit=3&sort=budget&cursor=\(try #require(byBudget.nextCursor))", as: .person(va, .va)).json(Page<PostingView>.self)
            #expect((byBudget.items + rest.items).map(\.id).filter { $0 != draft }.count == 5)
        }
    }
}
