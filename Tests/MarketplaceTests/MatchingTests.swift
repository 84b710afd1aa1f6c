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

    /// VAs for jobs, page by page, against scoring every candidate: one who shares a required skill (or the job asks for none).
    static func checkVAs(_ market: ServiceHarness<Marketplace>, jobs: [PostingView], people: [PersonRecord], skills: [String: Set<String>]) async throws {
        let admin = id()
        for view in jobs {
            let job = view.matched
            let candidates = people.filter { job.skills.isEmpty || !(skills[$0.userId] ?? []).isDisjoint(with: job.skills) }
                .map { Scored(id: $0.userId, score: MatchScore($0.candidate(skills: (skills[$0.userId] ?? []).intersection(job.skills)), for: job), tiebreak: $0.standing) }
            let expected = bruteForce(candidates, count: 30)
            var ranked: [Recommendation] = []
            var cursor: String?
            repeat {
                let page = try await market.call(.get, "/matches/recommendations?jobPostingId=\(view.id)&limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""), as: .person(admin, .admin))
                #expect(page.status == .ok, "\(String(decoding: page.body, as: UTF8.self))")
                let items = try page.json(Page<Recommendation>.self)
                ranked += items.items
                cursor = items.nextCursor
            } while cursor != nil && ranked.count < 30
            #expect(ranked.map(\.vaUserId) == expected.map(\.id), "job \(view.id) skills \(job.skills)")
            #expect(ranked.map(\.score) == expected.map(\.score.score))
            for item in ranked { #expect(abs(item.breakdown.skills + item.breakdown.rate + item.breakdown.availability + item.breakdown.rating + item.breakdown.timezone - item.score) < 1e-9) }
        }
    }

    /// Jobs for VAs, two pages, against scoring every open job sharing a skill of the VA (or asking for none).
    static func checkJobs(_ market: ServiceHarness<Marketplace>, people: [PersonRecord], skills: [String: Set<String>], postings: [PostingView]) async throws {
        for person in people {
            let candidate = person.candidate(skills: skills[person.userId] ?? [])
            let candidates = postings.compactMap { view -> Scored? in
                let job = view.matched
                guard job.skills.isEmpty || !candidate.skills.isDisjoint(with: job.skills) else { return nil }
                return Scored(id: view.id, score: MatchScore(candidate, for: job), tiebreak: Double(view.posting.payCents ?? 0))
            }
            let expected = bruteForce(candidates, count: 20)
            let first = try await market.call(.get, "/matches/jobs?limit=10", as: .person(person.userId, .va)).json(Page<JobRecommendation>.self)
            var ranked = first.items
            // A VA with ten jobs or fewer has one page.
            if let cursor = first.nextCursor {
                ranked += try await market.call(.get, "/matches/jobs?limit=10&cursor=\(cursor)", as: .person(person.userId, .va)).json(Page<JobRecommendation>.self).items
            }
            #expect(ranked.map(\.job.id) == expected.map(\.id), "VA \(person.userId) skills \(candidate.skills)")
            #expect(ranked.map(\.score) == expected.map(\.score.score))
        }
    }

    /// The active VAs, their skills and the open postings, as the database has them.
    static func market(_ market: ServiceHarness<Marketplace>) async throws -> (people: [PersonRecord], skills: [String: Set<String>], postings: [PostingView]) {
        try await market.database.withConnection { sql -> ([PersonRecord], [String: Set<String>], [PostingView]) in
            let people = try await Candidates.activeVAs(sql).all(decoding: PersonRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            let postings = try await Candidates.openPostings(sql).all(decoding: PostingRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            let terms = try await PostingTerms.of(postings.map(\.id), on: sql)
            return (people, try await PersonRecord.skills(of: people.map(\.userId), on: sql), postings.map { PostingView($0, terms: terms[$0.id] ?? PostingTerms()) })
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func rankingsEqualABruteForceScorer(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Marketplace>.with(engine) { market in
            _ = try await SyntheticMarket.seedPeople(count: 1_200, seed: 11, database: market.database)
            _ = try await SyntheticMarket.seedPostings(count: 400, seed: 12, database: market.database)
            let admin = Self.id()
            // A job asking no skills, which every VA covers (the walk by zone and standing).
            let open = #"{"title":"Anything","description":"Any help.","jobType":"hourly","rateMinCents":800,"rateMaxCents":1500,"timezone":"Asia/Manila","status":"open"}"#
            let unskilled = try await market.call(.post, "/jobs", json: open, as: .person(Self.id(), .company)).json(PostingView.self)
            let before = try await Self.market(market)
            let jobs = Array(before.postings.filter { $0.id != unskilled.id }.prefix(10)) + [unskilled]
            try await Self.checkVAs(market, jobs: jobs, people: before.people, skills: before.skills)
            try await Self.checkJobs(market, people: Array(before.people.prefix(10)), skills: before.skills, postings: before.postings)

            // Once both indexes are loaded, changes reach the next ranking: a VA gains a job's skills and the
            // best rating, another stops being available, one is deleted; a posting closes, one is edited, one is new.
            let (target, closed, edited) = (jobs[0], jobs[1], jobs[2])
            let (gainer, loser, deleted) = (before.people[0], before.people[1], before.people[2])
            try await market.vaProfile(gainer.userId, skills: target.skillsRequired, rate: 500, timezone: target.timezone, rating: 5, reviews: 500, name: "Gainer")
            try await market.vaProfile(loser.userId, skills: Array(before.skills[loser.userId] ?? []), available: false, name: "Loser")
            try await market.deliver([UserDeleted(userId: deleted.userId, role: .va)], to: "marketplace-people")
            #expect(try await market.call(.post, "/jobs/\(closed.id)/close", as: .person(admin, .admin)).status == .ok)
            #expect(try await market.call(.patch, "/jobs/\(edited.id)", json: #"{"skillsRequired":["brand-new-skill"]}"#, as: .person(admin, .admin)).status == .ok)
            let fresh = #"{"title":"Fresh","description":"New work.","jobType":"hourly","rateMinCents":800,"rateMaxCents":5000,"skillsRequired":["skill-0","skill-1"],"timezone":"Asia/Manila","status":"open"}"#
            let created = try await market.call(.post, "/jobs", json: fresh, as: .person(Self.id(), .company)).json(PostingView.self)
            let after = try await Self.market(market)
            #expect(!after.people.contains { $0.userId == deleted.userId } && !after.postings.contains { $0.id == closed.id } && after.postings.contains { $0.id == created.id })
            let first = try await market.call(.get, "/matches/recommendations?jobPostingId=\(target.id)&limit=1", as: .person(admin, .admin)).json(Page<Recommendation>.self)
            #expect(first.items.map(\.vaUserId) == [gainer.userId])
            let changed = after.postings.filter { [target.id, edited.id, created.id, unskilled.id].contains($0.id) }
            try await Self.checkVAs(market, jobs: changed, people: after.people, skills: after.skills)
            let vas = after.people.filter { [gainer.userId, loser.userId, before.people[3].userId].contains($0.userId) }
            try await Self.checkJobs(market, people: vas, skills: after.skills, postings: after.postings)
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
