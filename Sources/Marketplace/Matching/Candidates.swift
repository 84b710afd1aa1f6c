import Blytz
import BlytzEvents
import SQLKit

/// Who may be matched, as rows: the active VAs with a profile, and the open postings.
enum Candidates {
    static func activeVAs(_ sql: any SQLDatabase) -> SQLSelectBuilder {
        sql.select().column("*").from(PersonRecord.table).where("role", .equal, SQLBind(Role.va.rawValue))
            .where("status", .equal, SQLBind(AccountState.active.rawValue)).where("has_profile", .equal, SQLBind(true))
    }

    static func openPostings(_ sql: any SQLDatabase) -> SQLSelectBuilder {
        sql.select().column("*").from(PostingRecord.table).where("status", .equal, SQLBind(PostingStatus.open.rawValue))
    }
}

extension PersonRecord {
    func candidate(skills: Set<String>) -> Candidate {
        Candidate(userId: userId, skills: skills, hourlyRateCents: hourlyRateCents, currency: currency, available: available,
                  averageRating: averageRating, totalReviews: totalReviews, utcOffsetMinutes: utcOffsetMinutes)
    }
}

extension FunctionContext {
    /// The worker's match index (`Marketplace.setup` makes one per worker).
    var matchIndex: MatchIndex { dependencies[MatchIndexKey.self] ?? MatchIndex() }
}
