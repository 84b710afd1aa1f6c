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
        Migration(3, "people, search, hires and matches") { sql in
            // The marketplace's copy of the people it searches and matches, fed by the user service's events.
            try await sql.raw("""
                CREATE TABLE people (
                    user_id TEXT PRIMARY KEY,
                    role TEXT,
                    status TEXT NOT NULL,
                    has_profile BOOLEAN NOT NULL,
                    name TEXT,
                    country TEXT,
                    timezone TEXT,
                    utc_offset_minutes INTEGER,
                    hourly_rate_cents BIGINT,
                    currency TEXT,
                    availability TEXT,
                    available BOOLEAN NOT NULL,
                    average_rating DOUBLE PRECISION NOT NULL,
                    total_reviews BIGINT NOT NULL,
                    standing DOUBLE PRECISION NOT NULL,
                    profile_version TEXT,
                    account_version TEXT,
                    updated_at TEXT NOT NULL
                )
                """).run()
            // Candidates for a job are walked per time zone, best standing first (see Matching/Candidates.swift).
            try await sql.raw("CREATE INDEX people_by_standing ON people (utc_offset_minutes, standing, user_id)").run()
            try await sql.raw("""
                CREATE TABLE person_skills (user_id TEXT NOT NULL REFERENCES people (user_id), skill TEXT NOT NULL, PRIMARY KEY (user_id, skill))
                """).run()
            try await sql.raw("CREATE INDEX person_skills_by_skill ON person_skills (skill, user_id)").run()

            // Search: the words of a posting's title, description and tags; its budget and skill count; its zone.
            try await sql.raw("""
                CREATE TABLE posting_words (
                    posting_id TEXT NOT NULL REFERENCES job_postings (id),
                    term TEXT NOT NULL,
                    PRIMARY KEY (posting_id, term)
                )
                """).run()
            try await sql.raw("CREATE INDEX posting_words_by_term ON posting_words (term, posting_id)").run()
            try await sql.raw("ALTER TABLE job_postings ADD COLUMN pay_cents BIGINT").run()
            try await sql.raw("ALTER TABLE job_postings ADD COLUMN skill_count INTEGER NOT NULL DEFAULT 0").run()
            try await sql.raw("ALTER TABLE job_postings ADD COLUMN utc_offset_minutes INTEGER").run()
            try await sql.raw("UPDATE job_postings SET pay_cents = CASE WHEN job_type = 'fixed' THEN budget_cents ELSE rate_max_cents END").run()
            try await sql.raw("UPDATE job_postings SET skill_count = (SELECT COUNT(*) FROM posting_skills WHERE posting_skills.posting_id = job_postings.id)").run()
            try await sql.raw("CREATE INDEX job_postings_recent ON job_postings (status, published_at, id)").run()
            try await sql.raw("CREATE INDEX job_postings_budget ON job_postings (status, pay_cents, id)").run()
            try await sql.raw("CREATE INDEX job_postings_category ON job_postings (status, category, published_at, id)").run()
            try await sql.raw("CREATE INDEX job_postings_matching ON job_postings (status, job_type, utc_offset_minutes, skill_count, pay_cents, id)").run()

            // Hires: one per accepted proposal.
            try await sql.raw("""
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY,
                    job_posting_id TEXT NOT NULL REFERENCES job_postings (id),
                    proposal_id TEXT NOT NULL UNIQUE REFERENCES proposals (id),
                    company_user_id TEXT NOT NULL,
                    va_user_id TEXT NOT NULL,
                    title TEXT NOT NULL,
                    status TEXT NOT NULL,
                    contract_id TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX jobs_by_company ON jobs (company_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX jobs_by_va ON jobs (va_user_id, created_at, id)").run()

            // Votes: one row per (posting, VA) holding both sides', so concurrent votes meet on one row.
            try await sql.raw("""
                CREATE TABLE match_votes (
                    job_posting_id TEXT NOT NULL REFERENCES job_postings (id),
                    va_user_id TEXT NOT NULL,
                    company_vote TEXT,
                    va_vote TEXT,
                    updated_at TEXT NOT NULL,
                    PRIMARY KEY (job_posting_id, va_user_id)
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE matches (
                    id TEXT PRIMARY KEY,
                    job_posting_id TEXT NOT NULL REFERENCES job_postings (id),
                    va_user_id TEXT NOT NULL,
                    company_user_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    score DOUBLE PRECISION,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    UNIQUE (job_posting_id, va_user_id)
                )
                """).run()
            try await sql.raw("CREATE INDEX matches_by_company ON matches (company_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX matches_by_va ON matches (va_user_id, created_at, id)").run()
        },
        Migration(4, "skills walked by zone and standing") { sql in
            // Each VA's zone, standing and whether they may be matched, beside each of their skills, so the
            // holders of one skill in one zone are walked best standing first (Matching/Candidates.swift).
            try await sql.raw("ALTER TABLE person_skills ADD COLUMN utc_offset_minutes INTEGER").run()
            try await sql.raw("ALTER TABLE person_skills ADD COLUMN standing DOUBLE PRECISION NOT NULL DEFAULT 0").run()
            try await sql.raw("ALTER TABLE person_skills ADD COLUMN active BOOLEAN NOT NULL DEFAULT FALSE").run()
            try await sql.raw("""
                UPDATE person_skills SET
                    utc_offset_minutes = (SELECT utc_offset_minutes FROM people WHERE people.user_id = person_skills.user_id),
                    standing = (SELECT standing FROM people WHERE people.user_id = person_skills.user_id),
                    active = (SELECT role = 'va' AND status = 'active' AND has_profile FROM people WHERE people.user_id = person_skills.user_id)
                """).run()
            try await sql.raw("CREATE INDEX person_skills_walk ON person_skills (skill, active, utc_offset_minutes, standing, user_id)").run()
        },
        Migration(5, "versions of what matching reads") { sql in
            // Matching ranks from each worker's memory (Matching/MatchIndex.swift), refreshed from the rows
            // whose `match_version` passed the version it holds; the walk's columns and indexes go.
            try await sql.raw("DROP INDEX person_skills_walk").run()
            try await sql.raw("DROP INDEX people_by_standing").run()
            try await sql.raw("DROP INDEX job_postings_matching").run()
            for column in ["utc_offset_minutes", "standing", "active"] {
                try await sql.raw("ALTER TABLE person_skills DROP COLUMN \(unsafeRaw: column)").run()
            }
            try await sql.raw("CREATE TABLE match_versions (name TEXT PRIMARY KEY, version BIGINT NOT NULL)").run()
            for kind in MatchVersions.Kind.allCases {
                try await sql.raw("ALTER TABLE \(unsafeRaw: kind.table) ADD COLUMN match_version BIGINT NOT NULL DEFAULT 1").run()
                try await sql.raw("CREATE INDEX \(unsafeRaw: kind.table)_by_match_version ON \(unsafeRaw: kind.table) (match_version, \(unsafeRaw: kind.idColumn))").run()
                try await sql.raw("INSERT INTO match_versions (name, version) VALUES (\(bind: kind.rawValue), 1)").run()
            }
        },
        Migration(6, "postings' skills under a GIN index on PostgreSQL") { sql in
            // On PostgreSQL each posting's skills are also an array beside its row, under a GIN index, so
            // postings holding all of several skills are found by intersecting the index's lists of each
            // (SearchPostings) instead of joining the terms' ranges. Statement triggers on `posting_skills`
            // keep the array equal to its rows, whoever writes them (the API, the seeds, the import).
            // SQLite has no such index; it intersects the terms' B-tree ranges.
            guard sql.dialect.name == "postgresql" else { return }
            try await sql.raw("ALTER TABLE job_postings ADD COLUMN skill_terms TEXT[] NOT NULL DEFAULT '{}'").run()
            try await sql.raw("""
                UPDATE job_postings SET skill_terms = ARRAY(SELECT term FROM posting_skills WHERE posting_id = job_postings.id)
                WHERE id IN (SELECT posting_id FROM posting_skills)
                """).run()
            try await sql.raw("CREATE INDEX job_postings_skill_terms ON job_postings USING gin (skill_terms)").run()
            try await sql.raw("""
                CREATE FUNCTION posting_skill_terms_sync() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE job_postings SET skill_terms = ARRAY(SELECT term FROM posting_skills WHERE posting_id = job_postings.id)
                    WHERE id IN (SELECT posting_id FROM changed);
                    RETURN NULL;
                END
                $$
                """).run()
            // A trigger with a transition table takes one event.
            for (event, table) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
                try await sql.raw("""
                    CREATE TRIGGER posting_skill_terms_on_\(unsafeRaw: event.lowercased()) AFTER \(unsafeRaw: event) ON posting_skills
                    REFERENCING \(unsafeRaw: table) TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION posting_skill_terms_sync()
                    """).run()
            }
        },
        Migration(7, "search's filters beside their sort") { sql in
            // A type and a level under the newest-first sort, and a category under the budget sort: the
            // page is read off the index in order instead of walking the sort's index past the rows the
            // filters refuse (with a budget range, a few hundred rows where it was thousands).
            try await sql.raw("CREATE INDEX job_postings_type_level ON job_postings (status, job_type, experience_level, published_at, id)").run()
            try await sql.raw("CREATE INDEX job_postings_category_budget ON job_postings (status, category, pay_cents, id)").run()
        },
    ]
}
