import BlytzData
import SQLKit

/// `marketplace_db`, version by version. Times are ISO-8601 UTC text (sortable); lists are JSON text.
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "job postings and proposals") { sql in
            try await sql.raw("""
                CREATE TABLE job_postings (
                    id TEXT PRIMARY KEY,
                    company_user_id TEXT NOT NULL,
                    title TEXT NOT NULL,
                    description TEXT NOT NULL,
                    requirements TEXT,
                    category TEXT,
                    experience_level TEXT,
                    job_type TEXT NOT NULL,
                    budget_cents BIGINT,
                    rate_min_cents BIGINT,
                    rate_max_cents BIGINT,
                    currency TEXT NOT NULL,
                    duration TEXT,
                    remote BOOLEAN NOT NULL,
                    location TEXT,
                    timezone TEXT,
                    status TEXT NOT NULL,
                    views BIGINT NOT NULL,
                    proposal_count BIGINT NOT NULL,
                    published_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX job_postings_by_company ON job_postings (company_user_id, created_at, id)").run()
            // A posting's required skills and its tags, one row each, indexed for search by skill or tag.
            for table in [PostingTerms.Kind.skill.table, PostingTerms.Kind.tag.table] {
                try await sql.raw("""
                    CREATE TABLE \(unsafeRaw: table) (
                        posting_id TEXT NOT NULL REFERENCES job_postings (id),
                        term TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        PRIMARY KEY (posting_id, term)
                    )
                    """).run()
                try await sql.raw("CREATE INDEX \(unsafeRaw: table)_by_term ON \(unsafeRaw: table) (term, posting_id)").run()
            }
            try await sql.raw("""
                CREATE TABLE proposals (
                    id TEXT PRIMARY KEY,
                    job_posting_id TEXT NOT NULL REFERENCES job_postings (id),
                    va_user_id TEXT NOT NULL,
                    cover_letter TEXT NOT NULL,
                    bid_type TEXT NOT NULL,
                    bid_cents BIGINT,
                    hourly_rate_cents BIGINT,
                    estimated_hours BIGINT,
                    delivery_time TEXT,
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    UNIQUE (job_posting_id, va_user_id)
                )
                """).run()
            try await sql.raw("CREATE INDEX proposals_by_job ON proposals (job_posting_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX proposals_by_va ON proposals (va_user_id, created_at, id)").run()
        },
        Migration(2, "open jobs per category") { sql in
            // Kept by every change of a posting's status or category, so listing categories reads one row each.
            try await sql.raw("CREATE TABLE job_categories (category TEXT PRIMARY KEY, open_jobs BIGINT NOT NULL)").run()
        },
    ]
}
