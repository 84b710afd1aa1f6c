import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// The demo jobs of `blytz seed`: open jobs of the demo company across categories, and a proposal from
/// each demo VA on the job that fits them best.
enum DemoPostings {
    static let jobs: [PostingInput] = [
        PostingInput(title: "Customer support for a Shopify store", description: "Answer tickets and chats in Zendesk for our growing e-commerce store.",
                     skillsRequired: ["Customer Support", "Zendesk", "Shopify"], category: "customer-support", tags: ["ecommerce", "support"],
                     experienceLevel: .intermediate, jobType: .hourly, rateMinCents: 700, rateMaxCents: 1200, currency: "USD", duration: "3-6 months",
                     remote: true, timezone: "Asia/Manila", status: .open),
        PostingInput(title: "Monthly bookkeeping in QuickBooks", description: "Reconcile accounts, categorise expenses and prepare monthly reports.",
                     skillsRequired: ["Bookkeeping", "QuickBooks", "Excel"], category: "finance", tags: ["accounting"],
                     experienceLevel: .expert, jobType: .hourly, rateMinCents: 1200, rateMaxCents: 2000, currency: "USD", duration: "ongoing",
                     remote: true, timezone: "Asia/Kolkata", status: .open),
        PostingInput(title: "Social media content in Spanish and English", description: "Plan and write posts for Instagram and LinkedIn; design with Canva.",
                     skillsRequired: ["Social Media", "Content Writing", "Canva"], category: "marketing", tags: ["content", "spanish"],
                     experienceLevel: .intermediate, jobType: .fixed, budgetCents: 60000, currency: "USD", duration: "1 month",
                     remote: true, timezone: "America/Bogota", status: .open),
        PostingInput(title: "Executive assistant for a founder", description: "Own the calendar, inbox and travel of a busy founder; take meeting notes.",
                     skillsRequired: ["Executive Assistance", "Calendar Management", "Email Management"], category: "administration", tags: ["founder", "inbox"],
                     experienceLevel: .expert, jobType: .hourly, rateMinCents: 800, rateMaxCents: 1400, currency: "USD", duration: "ongoing",
                     remote: true, timezone: "Africa/Lagos", status: .open),
        PostingInput(title: "Data entry and spreadsheet clean-up", description: "Clean and merge supplier spreadsheets in Excel; a one-off project.",
                     skillsRequired: ["Excel", "Data Entry"], category: "data", tags: ["spreadsheets"],
                     experienceLevel: .entry, jobType: .fixed, budgetCents: 25000, currency: "USD", duration: "2 weeks",
                     remote: true, timezone: "America/New_York", status: .open),
    ]

    /// Seeds once: nothing happens when the demo company already has postings.
    static func seed(database: ServiceDatabase, now: Date) async throws -> String {
        struct Seeded: Encodable { var postings: Int; var proposals: Int; var company: String? }
        return try await database.transaction { sql in
            let companies = try await sql.select().column("*").from(PersonRecord.table).where("role", .equal, SQLBind(Role.company.rawValue))
                .where("status", .equal, SQLBind(AccountState.active.rawValue)).where("has_profile", .equal, SQLBind(true))
                .orderBy("name").all(decoding: PersonRecord.self, keyDecodingStrategy: .snakeCase)
            guard let company = companies.first(where: { $0.name == "Acme Remote Ops" }) ?? companies.first else {
                throw DemoPeople.missing()
            }
            let existing = try await sql.select().column("id").from(PostingRecord.table).where("company_user_id", .equal, SQLBind(company.userId)).limit(1).all()
            guard existing.isEmpty else { return jsonText(Seeded(postings: 0, proposals: 0, company: company.userId)) }
            var views: [PostingView] = []
            for (index, input) in jobs.enumerated() {
                let at = now.addingTimeInterval(Double(index)).iso
                var record = PostingRecord(
                    id: UUID().uuidString.lowercased(), companyUserId: company.userId, title: "", description: "", jobType: .fixed, currency: "USD",
                    remote: true, status: .open, views: 0, proposalCount: 0, publishedAt: at, createdAt: at, updatedAt: at
                )
                record.apply(input)
                try await record.insert(on: sql)
                try await CategoryCounts.moved(from: nil, to: record, on: sql)
                try await PostingTerms.apply(input, to: record.id, on: sql)
                let view = try await PostingTerms.view(record, on: sql)
                try await PostingTerms.index(view, on: sql)
                views.append(view)
            }
            // Each demo VA proposes on the job that scores best for them.
            let vas = try await Candidates.activeVAs(sql).orderBy("name").limit(20).all(decoding: PersonRecord.self, keyDecodingStrategy: .snakeCase)
            let skills = try await PersonRecord.skills(of: vas.map(\.userId), on: sql)
            var proposals = 0
            for va in vas {
                let candidate = va.candidate(skills: skills[va.userId] ?? [])
                guard let best = views.max(by: { MatchScore(candidate, for: $0.matched).score < MatchScore(candidate, for: $1.matched).score }) else { continue }
                let hourly = best.jobType == .hourly
                let proposal = ProposalRecord(
                    id: UUID().uuidString.lowercased(), jobPostingId: best.id, vaUserId: va.userId,
                    coverLetter: "Hello! I am \(va.name ?? "a VA") and this job fits my skills well.", bidType: best.jobType,
                    bidCents: hourly ? nil : best.budgetCents, hourlyRateCents: hourly ? min(va.hourlyRateCents ?? 1000, best.rateMaxCents ?? 1000) : nil,
                    estimatedHours: hourly ? 40 : nil, currency: best.currency, status: .pending, createdAt: now.iso, updatedAt: now.iso
                )
                try await sql.insert(into: ProposalRecord.table).model(proposal, keyEncodingStrategy: .snakeCase).run()
                try await sql.update(PostingRecord.table).set(SQLIdentifier("proposal_count"), to: SQLRaw("proposal_count + 1")).where("id", .equal, SQLBind(best.id)).run()
                proposals += 1
            }
            return jsonText(Seeded(postings: views.count, proposals: proposals, company: company.userId))
        }
    }
}

/// The benchmarks' data generator (`blytz marketplace seed-postings` / `seed-people`): skills from a
/// vocabulary of 200 drawn Zipf-skewed (a few common, many rare), 3–12 per VA and 2–6 per job; rates,
/// ratings and time zones spread like the demo data (mostly Asia-Pacific VAs at $5–$30 an hour; jobs
/// from American, European and Asian companies). Seeded, so every run makes the same data.
enum SyntheticMarket {
    static let vocabulary: [String] = (0..<200).map { "skill-\($0)" }
    static let skillDraw = Zipf(count: 200, exponent: 1)
    static let vaZones = ["Asia/Manila", "Asia/Manila", "Asia/Manila", "Asia/Kolkata", "Asia/Kolkata", "Asia/Karachi", "Africa/Lagos", "Africa/Nairobi",
                          "America/Bogota", "America/Mexico_City", "Europe/Belgrade", "Asia/Jakarta"]
    static let jobZones = ["America/New_York", "America/New_York", "America/Los_Angeles", "America/Chicago", "Europe/London", "Europe/Berlin",
                           "Australia/Sydney", "Asia/Singapore", "Asia/Manila", "Asia/Dubai"]
    static let categories = ["customer-support", "finance", "marketing", "administration", "data", "design", "development", "sales", "writing", "operations"]
    static let words = ["inbox", "calendar", "support", "tickets", "reports", "monthly", "store", "clients", "social", "content", "research", "leads",
                        "invoices", "travel", "notes", "spreadsheets", "catalog", "orders", "refunds", "onboarding", "newsletter", "podcast", "crm", "hiring"]

    static func skills(_ range: ClosedRange<Int>, using generator: inout SplitMix) -> [String] {
        let count = Int.random(in: range, using: &generator)
        var chosen: [String] = []
        while chosen.count < count {
            let skill = vocabulary[skillDraw.draw(using: &generator)]
            if !chosen.contains(skill) { chosen.append(skill) }
        }
        return chosen
    }

    static func seedPostings(count: Int, seed: UInt64, database: ServiceDatabase) async throws -> String {
        let started = ContinuousClock.now
        var generator = SplitMix(seed: seed)
        let batch = 1_000
        for start in stride(from: 0, to: count, by: batch) {
            var views: [PostingView] = []
            for index in start..<min(count, start + batch) {
                let at = Date(timeIntervalSince1970: 1_750_000_000 + Double(index) * 30).iso
                let hourly = Bool.random(using: &generator)
                let low = Int.random(in: 5...25, using: &generator) * 100
                var record = PostingRecord(
                    id: generator.uuid(), companyUserId: generator.uuid(),
                    title: (0..<4).map { _ in words.randomElement(using: &generator)! }.joined(separator: " "),
                    description: (0..<20).map { _ in words.randomElement(using: &generator)! }.joined(separator: " "),
                    category: categories.randomElement(using: &generator), experienceLevel: ExperienceLevel.allCases.randomElement(using: &generator),
                    jobType: hourly ? .hourly : .fixed, budgetCents: hourly ? nil : Int.random(in: 20...2_000, using: &generator) * 1_000,
                    rateMinCents: hourly ? low : nil, rateMaxCents: hourly ? low + Int.random(in: 2...15, using: &generator) * 100 : nil, currency: "USD",
                    remote: Int.random(in: 0..<5, using: &generator) > 0, timezone: jobZones.randomElement(using: &generator), status: .open, views: 0,
                    proposalCount: 0, publishedAt: at, createdAt: at, updatedAt: at
                )
                record.requirements = nil
                views.append(PostingView(record, terms: PostingTerms(skills: skills(2...6, using: &generator), tags: [words.randomElement(using: &generator)!])))
            }
            let made = views
            try await database.transaction { sql in
                let views = made
                try await sql.insert(into: PostingRecord.table).models(views.map(\.posting), keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
                try await PostingTerms.insert(views, on: sql)
            }
        }
        try await database.transaction { sql in try await CategoryCounts.recount(on: sql) }
        try await analyze(database)
        struct Seeded: Encodable { var postings: Int; var seconds: Double }
        return jsonText(Seeded(postings: count, seconds: ((started.duration(to: .now) / .seconds(1)) * 10).rounded() / 10))
    }

    static func seedPeople(count: Int, seed: UInt64, database: ServiceDatabase) async throws -> String {
        let started = ContinuousClock.now
        var generator = SplitMix(seed: seed)
        let batch = 2_000
        let now = Date().iso
        for start in stride(from: 0, to: count, by: batch) {
            var rows: [(PersonRecord, [String])] = []
            for index in start..<min(count, start + batch) {
                var person = PersonRecord(userId: generator.uuid(), now: now)
                let reviews = Int.random(in: 0..<10, using: &generator) < 3 ? 0 : Int(pow(Double.random(in: 0..<1, using: &generator), 3) * 200) + 1
                let zone = vaZones.randomElement(using: &generator)!
                person.apply(VAProfileSnapshot(
                    userId: person.userId, name: "VA \(index)", bio: "", country: "PH", timezone: zone,
                    hourlyRateCents: Int.random(in: 5...30, using: &generator) * 100, currency: "USD", skills: [], availability: "full-time",
                    available: Int.random(in: 0..<4, using: &generator) > 0,
                    averageRating: reviews == 0 ? 0 : (Double.random(in: 3.5...5, using: &generator) * 100).rounded() / 100, totalReviews: reviews,
                    completedJobs: reviews, verificationLevel: "none", avatarFileId: nil, updatedAt: now
                ))
                person.profileVersion = now
                rows.append((person, skills(3...12, using: &generator)))
            }
            let made = rows
            try await database.transaction { sql in
                let rows = made
                try await sql.insert(into: PersonRecord.table).models(rows.map(\.0), keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
                try await PersonRecord.insert(skills: rows.map { ($0.0.userId, $0.1) }, on: sql)
            }
        }
        try await database.transaction { sql in try await MatchVersions.stampAll(.people, on: sql) }
        try await analyze(database)
        struct Seeded: Encodable { var people: Int; var seconds: Double }
        return jsonText(Seeded(people: count, seconds: ((started.duration(to: .now) / .seconds(1)) * 10).rounded() / 10))
    }

    /// Fresh planner statistics (and on PostgreSQL the visibility map, for index-only probes).
    static func analyze(_ database: ServiceDatabase) async throws {
        let analyze: SQLQueryString = database.engine == .postgres ? "VACUUM ANALYZE" : "ANALYZE"
        try await database.withConnection { sql in try await sql.raw(analyze).run() }
    }
}
