import Foundation

/// The one scoring function of matching, for both directions (VAs for a job, jobs for a VA):
///
///     score = 0.40·skills + 0.20·rate + 0.10·availability + 0.15·rating + 0.15·timezone
///
/// each factor in 0…1, each weighted part rounded to 4 decimals, and the score the sum of the parts, so the
/// breakdown a client sees sums exactly to the score. The factors:
/// - `skills`: the share of the job's required skills the VA has (1 when the job requires none);
/// - `rate`: for an hourly job, 1 when the VA's rate is at most the job's top rate, falling linearly to 0
///   at twice it; 0.5 for a fixed-price job or a rate in another currency (no basis to compare);
/// - `availability`: 1 when the VA is available for work, else 0;
/// - `rating`: the VA's average shrunk toward `priorRating` by `priorWeight` reviews' worth —
///   `(priorWeight·priorRating + reviews·average) / (priorWeight + reviews) / 5` — so one 5-star review
///   (0.833) does not beat fifty 4.8s (0.945);
/// - `timezone`: the hours of a 9-to-5 working day the two share (the zones' standard offsets), over 8;
///   0.5 when either zone is unknown.
struct MatchScore: Codable, Sendable, Equatable {
    /// The weighted parts, which sum to `score`.
    struct Breakdown: Codable, Sendable, Equatable {
        var skills: Double
        var rate: Double
        var availability: Double
        var rating: Double
        var timezone: Double
    }

    var score: Double
    var breakdown: Breakdown

    static let weights = (skills: 0.40, rate: 0.20, availability: 0.10, rating: 0.15, timezone: 0.15)
    static let priorRating = 4.0
    static let priorWeight = 5.0

    /// A weighted part, rounded to 4 decimals.
    static func part(_ weight: Double, _ factor: Double) -> Double { (weight * min(1, max(0, factor)) * 10_000).rounded() / 10_000 }

    init(skills: Double, rate: Double, availability: Double, rating: Double, timezone: Double) {
        let w = Self.weights
        let parts = Breakdown(
            skills: Self.part(w.skills, skills), rate: Self.part(w.rate, rate), availability: Self.part(w.availability, availability),
            rating: Self.part(w.rating, rating), timezone: Self.part(w.timezone, timezone)
        )
        breakdown = parts
        score = ((parts.skills + parts.rate + parts.availability + parts.rating + parts.timezone) * 10_000).rounded() / 10_000
    }

    /// The score of `person` for `job`, when `matched` of the job's required skills are the person's.
    init(_ person: Candidate, for job: MatchedJob, matched: Int) {
        let covered = job.skillCount == 0 ? 1 : Double(min(matched, job.skillCount)) / Double(job.skillCount)
        self.init(
            skills: covered, rate: Self.rateFactor(person.hourlyRateCents, person.currency, job: job),
            availability: person.available ? 1 : 0, rating: Self.ratingFactor(person.averageRating, reviews: person.totalReviews),
            timezone: Self.overlap(person.utcOffsetMinutes, job.utcOffsetMinutes)
        )
    }

    static func rateFactor(_ rate: Int?, _ currency: String?, job: MatchedJob) -> Double {
        guard job.jobType == .hourly, let top = job.payCents, top > 0, let rate, currency == job.currency else { return 0.5 }
        return rate <= top ? 1 : max(0, 1 - Double(rate - top) / Double(top))
    }

    static func ratingFactor(_ average: Double, reviews: Int) -> Double {
        (priorWeight * priorRating + Double(reviews) * average) / (priorWeight + Double(reviews)) / 5
    }

    static func overlap(_ a: Int?, _ b: Int?) -> Double {
        guard let a, let b else { return 0.5 }
        let apart = abs(a - b) % 1440
        let hours = Double(min(apart, 1440 - apart)) / 60
        return max(0, 8 - hours) / 8
    }

    /// The job-independent parts (availability and rating), by which candidates are walked.
    static func standing(available: Bool, averageRating: Double, reviews: Int) -> Double {
        ((part(weights.availability, available ? 1 : 0) + part(weights.rating, ratingFactor(averageRating, reviews: reviews))) * 10_000).rounded() / 10_000
    }

    /// The standard UTC offset of an IANA zone, in minutes (daylight saving ignored: at most an hour off).
    static func standardOffset(_ identifier: String?) -> Int? {
        guard let identifier, let zone = TimeZone(identifier: identifier) else { return nil }
        let now = Date()
        return (zone.secondsFromGMT(for: now) - Int(zone.daylightSavingTimeOffset(for: now))) / 60
    }
}

/// What scoring needs of a VA (`skills` only where they are compared one by one).
struct Candidate: Sendable, Equatable {
    var userId: String
    var skills: Set<String> = []
    var hourlyRateCents: Int?
    var currency: String?
    var available: Bool
    var averageRating: Double
    var totalReviews: Int
    var utcOffsetMinutes: Int?
}

/// What scoring needs of a job posting (`skills` only where they are compared one by one).
struct MatchedJob: Sendable, Equatable {
    var id: String
    var skills: [String] = []
    var skillCount: Int
    var jobType: JobType
    /// The fixed budget, or the top of an hourly range.
    var payCents: Int?
    var currency: String
    var utcOffsetMinutes: Int?
}

extension MatchScore {
    /// The score of `person` for `job`, comparing their skills.
    init(_ person: Candidate, for job: MatchedJob) {
        self.init(person, for: job, matched: Set(job.skills).intersection(person.skills).count)
    }
}
