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

/// The score, the candidate walk against a brute-force scorer, and votes and matches, on both engines.
@Suite struct MatchingTests {
    static func id() -> String { UUID().uuidString.lowercased() }

    @Test func theScoreIsExplainedAndShrinksFewReviews() {
        let job = MatchedJob(id: "j", skills: ["a", "b", "c", "d"], skillCount: 4, jobType: .hourly, payCents: 1_000, currency: "USD", utcOffsetMinutes: 480)
        func va(_ skills: Set<String>, rate: Int = 900, rating: Double = 4.8, reviews: Int = 50, offset: Int? = 480, available: Bool = true) -> MatchScore {
            MatchScore(Candidate(userId: "v", skills: skills, hourlyRateCents: rate, currency: "USD", available: available, averageRating: rating, totalReviews: reviews, utcOffsetMinutes: offset), for: job)
        }
        let best = va(["a", "b", "c", "d"])
        let parts = best.breakdown
        #expect(abs(parts.skills + parts.rate + parts.availability + parts.rating + parts.timezone - best.score) < 1e-9)
        #expect(parts.skills == 0.4 && parts.rate == 0.2 && parts.availability == 0.1 && parts.timezone == 0.15)
        // One 5-star review does not beat fifty 4.8s.
        #expect(va(["a"], rating: 5, reviews: 1).breakdown.rating < va(["a"], rating: 4.8, reviews: 50).breakdown.rating)
        #expect(va(["a", "b"]).breakdown.skills == 0.2)
        // Rate: full up to the top of the range, half at 1.5×, none at 2×.
        #expect(va(["a"], rate: 1_500).breakdown.rate == 0.1 && va(["a"], rate: 2_000).breakdown.rate == 0)
        // Time zones: Manila and Lagos share one hour of a working day; an unknown zone counts half.
        #expect(va(["a"], offset: 60).breakdown.timezone == MatchScore.part(0.15, 1.0 / 8))
        #expect(va(["a"], offset: nil).breakdown.timezone == 0.075)
        #expect(va(["a"], available: false).breakdown.availability == 0)
        let fixed = MatchedJob(id: "f", skills: [], skillCount: 0, jobType: .fixed, payCents: 50_000, currency: "USD", utcOffsetMinutes: nil)
        #expect(MatchScore(Candidate(userId: "v", skills: [], hourlyRateCents: 900, currency: "USD", available: true, averageRating: 0, totalReviews: 0, utcOffsetMinutes: 0), for: fixed).breakdown.skills == 0.4)
    }

    /// Scores every candidate and sorts: what the walk over indexes must equal.
    static func bruteForce(_ candidates: [Scored], count: Int) -> [Scored] {
        candidates.sorted { $0.precedes($1) }.prefix(count).map { $0 }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func rankingsEqualABruteForceScorer(engine: ServiceDatabase.Engine) async throws {
        // A low rare-skill threshold and small batches, so both the rare reads and the walk run, over several steps.
        try await ServiceHarness<Marketplace>.with(engine, configuration: ["MATCH_RARE_SKILL": "40", "MATCH_BATCH": "7"]) { market in
            _ = try await SyntheticMarket.seedPeople(count: 500, seed: 11, database: market.database)
            _ = try await SyntheticMarket.seedPostings(count: 400, seed: 12, database: market.database)
            let (people, skills, postings, terms) = try await market.database.withConnection { sql in
                let people = try await Candidates.activeVAs(sql).all(decoding: PersonRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
                let postings = try await Candidates.openPostings(sql).all(decoding: PostingRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
                return (people, try await PersonRecord.skills(of: people.map(\.userId), on: sql), postings, try await PostingTerms.of(postings.map(\.id), on: sql))
            }
            let admin = Self.id()
            // VAs for jobs: every candidate shares a required skill (or the job asks for none).
            for posting in postings.prefix(10) {
                let job = PostingView(posting, terms: terms[posting.id] ?? PostingTerms()).matched
                let candidates = people.filter { job.skills.isEmpty || !(skills[$0.userId] ?? []).isDisjoint(with: job.skills) }
                    .map { Scored(id: $0.userId, score: MatchScore($0.candidate(skills: (skills[$0.userId] ?? []).intersection(job.skills)), for: job), tiebreak: $0.standing) }
                let expected = Self.bruteForce(candidates, count: 30)
                var ranked: [Recommendation] = []
                var cursor: String?
                repeat {
                    let page = try await market.call(.get, "/matches/recommendations?jobPostingId=\(posting.id)&limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""), as: .person(admin, .admin))
                    #expect(page.status == .ok, "\(String(decoding: page.body, as: UTF8.self))")
                    let items = try page.json(Page<Recommendation>.self)
                    ranked += items.items
                    cursor = items.nextCursor
                } while cursor != nil && ranked.count < 30
                #expect(ranked.map(\.vaUserId) == expected.map(\.id), "job \(posting.id) skills \(job.skills)")
                #expect(ranked.map(\.score) == expected.map(\.score.score))
                for item in ranked { #expect(abs(item.breakdown.skills + item.breakdown.rate + item.breakdown.availability + item.breakdown.rating + item.breakdown.timezone - item.score) < 1e-9) }
            }
            // Jobs for VAs: every open job sharing a skill of the VA (or asking for none).
            for person in people.prefix(10) {
                try await market.deliver([UserUpdated(userId: person.userId, fields: ["role"], role: .va, status: .active)], to: "marketplace-people")
                let candidate = person.candidate(skills: skills[person.userId] ?? [])
                let candidates = postings.compactMap { posting -> Scored? in
                    let job = PostingView(posting, terms: terms[posting.id] ?? PostingTerms()).matched
                    guard job.skills.isEmpty || !candidate.skills.isDisjoint(with: job.skills) else { return nil }
                    return Scored(id: posting.id, score: MatchScore(candidate, for: job), tiebreak: Double(posting.payCents ?? 0))
                }
                let expected = Self.bruteForce(candidates, count: 20)
                let first = try await market.call(.get, "/matches/jobs?limit=10", as: .person(person.userId, .va)).json(Page<JobRecommendation>.self)
                let second = try await market.call(.get, "/matches/jobs?limit=10&cursor=\(first.nextCursor ?? "")", as: .person(person.userId, .va)).json(Page<JobRecommendation>.self)
                let ranked = first.items + second.items
                #expect(ranked.map(\.job.id) == expected.map(\.id), "VA \(person.userId) skills \(candidate.skills)")
                #expect(ranked.map(\.score) == expected.map(\.score.score))
            }
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func recommendationsAreTheOwnersAndJobsTheVAs(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let company = Self.id(), va = Self.id(), near = Self.id(), far = Self.id()
            try await market.vaProfile(near, skills: ["zendesk", "email"], timezone: "Asia/Manila", name: "Near")
            try await market.vaProfile(far, skills: ["zendesk"], timezone: "America/Los_Angeles", name: "Far")
            try await market.vaProfile(va, skills: ["canva"])
            let job = #"{"title":"Support","description":"Tickets.","jobType":"hourly","rateMinCents":800,"rateMaxCents":1200,"skillsRequired":["zendesk","email"],"timezone":"Asia/Singapore","status":"open"}"#
            let posting = try await market.call(.post, "/jobs", json: job, as: .person(company, .company)).json(PostingView.self).id
            let ranked = try await market.call(.get, "/matches/recommendations?jobPostingId=\(posting)", as: .person(company, .company)).json(Page<Recommendation>.self)
            #expect(ranked.items.map(\.vaUserId) == [near, far] && ranked.items.first?.matchedSkills == ["email", "zendesk"])
            #expect(try await market.call(.get, "/matches/recommendations?jobPostingId=\(posting)", as: .person(Self.id(), .company)).status == .forbidden)
            #expect(try await market.call(.get, "/matches/recommendations", as: .person(company, .company)).problemFields == ["jobPostingId"])
            #expect(try await market.call(.get, "/matches/recommendations?jobPostingId=\(Self.id())", as: .person(company, .company)).status == .notFound)
            let jobs = try await market.call(.get, "/matches/jobs", as: .person(near, .va)).json(Page<JobRecommendation>.self)
            #expect(jobs.items.map(\.job.id) == [posting] && jobs.items.first?.score == ranked.items.first?.score)
            #expect(try await market.call(.get, "/matches/jobs", as: .person(va, .va)).json(Page<JobRecommendation>.self).items.isEmpty)
            #expect(try await market.call(.get, "/matches/jobs", as: .person(company, .company)).status == .forbidden)
            #expect(try await market.call(.get, "/matches/jobs", as: .person(Self.id(), .va)).status == .forbidden)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aMutualLikeMakesOneMatchEvenWhenVotedAtOnce(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            let company = Self.id()
            let job = #"{"title":"Support","description":"Tickets.","jobType":"fixed","budgetCents":10000,"skillsRequired":["zendesk"],"status":"open"}"#
            let posting = try await market.call(.post, "/jobs", json: job, as: .person(company, .company)).json(PostingView.self).id
            func vote(_ side: (String, Caller.Role), va: String?, _ vote: String) async throws -> HandlerTester.Response {
                let named = va.map { #","vaUserId":"\#($0)""# } ?? ""
                return try await market.call(.post, "/matches/votes", json: #"{"jobPostingId":"\#(posting)","vote":"\#(vote)"\#(named)}"#, as: .person(side.0, side.1))
            }
            // Roles: the job's company names a VA; a VA votes for themself; nobody else votes.
            let va = Self.id()
            try await market.vaProfile(va, skills: ["zendesk"])
            #expect(try await vote((company, .company), va: nil, "like").problemFields == ["vaUserId"])
            #expect(try await vote((Self.id(), .company), va: va, "like").status == .forbidden)
            #expect(try await vote((va, .va), va: Self.id(), "like").problemFields == ["vaUserId"])
            #expect(try await vote((Self.id(), .admin), va: va, "like").status == .forbidden)
            #expect(try await vote((company, .company), va: Self.id(), "like").status == .notFound)
            #expect(try await vote((va, .va), va: nil, "maybe").problemFields == ["vote"])
            // A pass, then a like from each side: one match, one MatchCreated.
            #expect(try await vote((va, .va), va: nil, "pass").json(VoteState.self).match == nil)
            #expect(try await vote((company, .company), va: va, "like").json(VoteState.self).match == nil)
            let matched = try await vote((va, .va), va: nil, "like").json(VoteState.self)
            let match = try #require(matched.match)
            #expect(match.status == .active && match.vaUserId == va && match.companyUserId == company && match.score != nil)
            #expect(try await vote((company, .company), va: va, "like").json(VoteState.self).match?.id == match.id)
            #expect(try await market.published(MatchCreated.self).map(\.matchId) == [match.id])

            // Many VAs, both sides voting at once, over and over: exactly one match each.
            let vas = (0..<6).map { _ in Self.id() }
            for other in vas { try await market.vaProfile(other, skills: ["zendesk"]) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for other in vas {
                    for _ in 0..<3 {
                        group.addTask { () async throws -> Void in #expect(try await vote((company, .company), va: other, "like").status == .ok) }
                        group.addTask { () async throws -> Void in #expect(try await vote((other, .va), va: nil, "like").status == .ok) }
                    }
                }
                try await group.waitForAll()
            }
            let created = try await market.published(MatchCreated.self)
            #expect(created.count == 7 && Set(created.map(\.vaUserId)) == Set(vas + [va]))

            // Matches: each party's list and the match itself; archiving once.
            #expect(try await market.call(.get, "/matches", as: .person(company, .company)).json(Page<MatchRecord>.self).items.count == 7)
            #expect(try await market.call(.get, "/matches", as: .person(va, .va)).json(Page<MatchRecord>.self).items.map(\.id) == [match.id])
            #expect(try await market.call(.get, "/matches/\(match.id)", as: .person(vas[0], .va)).status == .notFound)
            #expect(try await market.call(.get, "/matches/\(match.id)", as: .person(Self.id(), .admin)).status == .ok)
            #expect(try await market.call(.post, "/matches/\(match.id)/archive", as: .person(Self.id(), .admin)).status == .forbidden)
            #expect(try await market.call(.post, "/matches/\(match.id)/archive", as: .person(va, .va)).json(MatchRecord.self).status == .archived)
            let twice = try await market.call(.post, "/matches/\(match.id)/archive", as: .person(company, .company))
            #expect(twice.status == .conflict && twice.problem?.detail == "The match is archived; it cannot be archived.")
            #expect(try await market.call(.get, "/matches?status=active", as: .person(company, .company)).json(Page<MatchRecord>.self).items.count == 6)
            // A closed job takes no votes.
            _ = try await market.call(.post, "/jobs/\(posting)/close", as: .person(company, .company))
            #expect(try await vote((va, .va), va: nil, "like").status == .conflict)
        }
    }
}
