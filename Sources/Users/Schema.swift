import Foundation
import BlytzData
import SQLKit

/// `users_db`, version by version. Times are ISO-8601 UTC text (sortable); JSON-shaped fields are text.
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "users, sessions, tokens, login throttle") { sql in
            try await sql.raw("""
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL,
                    status TEXT NOT NULL,
                    email_verified BOOLEAN NOT NULL,
                    preferences TEXT NOT NULL,
                    display_name TEXT,
                    avatar_file_id TEXT,
                    last_seen_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX users_listing ON users (created_at, id)").run()
            try await sql.raw("CREATE INDEX users_by_role ON users (role, status, created_at, id)").run()
            try await sql.raw("""
                CREATE TABLE refresh_tokens (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users (id),
                    family_id TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    rotated_at TEXT,
                    revoked_at TEXT,
                    revoke_reason TEXT
                )
                """).run()
            try await sql.raw("CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)").run()
            try await sql.raw("CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)").run()
            try await sql.raw("""
                CREATE TABLE one_time_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users (id),
                    purpose TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    used_at TEXT
                )
                """).run()
            try await sql.raw("CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose)").run()
            try await sql.raw("""
                CREATE TABLE login_throttle (
                    key TEXT PRIMARY KEY,
                    failures BIGINT NOT NULL,
                    window_started_at TEXT NOT NULL,
                    locked_until TEXT,
                    locks BIGINT NOT NULL
                )
                """).run()
        },
        Migration(2, "VA and company profiles, search terms, totals") { sql in
            // Search terms compare byte-wise on both engines, so a prefix range uses the index.
            let binary = sql.dialect.name == "postgresql" ? #" COLLATE "C""# : ""
            try await sql.raw("""
                CREATE TABLE va_profiles (
                    user_id TEXT PRIMARY KEY REFERENCES users (id),
                    name TEXT NOT NULL,
                    bio TEXT NOT NULL,
                    country TEXT NOT NULL,
                    timezone TEXT,
                    hourly_rate_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    skills TEXT NOT NULL,
                    languages TEXT NOT NULL,
                    availability TEXT NOT NULL,
                    available BOOLEAN NOT NULL,
                    work_experience TEXT NOT NULL,
                    education TEXT NOT NULL,
                    average_rating DOUBLE PRECISION NOT NULL,
                    rating_sum BIGINT NOT NULL,
                    total_reviews BIGINT NOT NULL,
                    completed_jobs BIGINT NOT NULL,
                    earned_cents BIGINT NOT NULL,
                    profile_views BIGINT NOT NULL,
                    verification_level TEXT NOT NULL,
                    avatar_file_id TEXT,
                    resume_file_id TEXT,
                    visible BOOLEAN NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            // One index per sort order, each also led by country, the most common narrowing filter.
            for (name, column) in [("rating", "average_rating"), ("rate", "hourly_rate_cents"), ("recent", "created_at")] {
                try await sql.raw("CREATE INDEX va_profiles_by_\(unsafeRaw: name) ON va_profiles (visible, \(unsafeRaw: column), user_id)").run()
                try await sql.raw("CREATE INDEX va_profiles_country_by_\(unsafeRaw: name) ON va_profiles (country, visible, \(unsafeRaw: column), user_id)").run()
            }
            try await sql.raw("""
                CREATE TABLE va_skills (
                    skill TEXT NOT NULL,
                    user_id TEXT NOT NULL REFERENCES va_profiles (user_id) ON DELETE CASCADE,
                    PRIMARY KEY (user_id, skill)
                )
                """).run()
            // Probes look up (user_id, skill); a rare skill is read as a range of this index.
            try await sql.raw("CREATE INDEX va_skills_by_skill ON va_skills (skill, user_id)").run()
            try await sql.raw("""
                CREATE TABLE companies (
                    user_id TEXT PRIMARY KEY REFERENCES users (id),
                    name TEXT NOT NULL,
                    bio TEXT NOT NULL,
                    country TEXT NOT NULL,
                    website TEXT,
                    industry TEXT NOT NULL,
                    company_size TEXT,
                    founded_year BIGINT,
                    logo_file_id TEXT,
                    verification_level TEXT NOT NULL,
                    total_spent_cents BIGINT NOT NULL,
                    visible BOOLEAN NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX companies_recent ON companies (visible, created_at, user_id)").run()
            try await sql.raw("CREATE INDEX companies_by_name ON companies (visible, name, user_id)").run()
            try await sql.raw("CREATE INDEX companies_industry ON companies (industry, visible, created_at, user_id)").run()
            try await sql.raw("CREATE INDEX companies_country ON companies (country, visible, created_at, user_id)").run()
            try await sql.raw("""
                CREATE TABLE profile_terms (
                    kind TEXT NOT NULL,
                    term TEXT\(unsafeRaw: binary) NOT NULL,
                    user_id TEXT NOT NULL,
                    PRIMARY KEY (kind, term, user_id)
                )
                """).run()
            try await sql.raw("CREATE INDEX profile_terms_user ON profile_terms (user_id, kind, term)").run()
            try await sql.raw("""
                CREATE TABLE user_totals (
                    user_id TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    earned_cents BIGINT NOT NULL,
                    spent_cents BIGINT NOT NULL,
                    PRIMARY KEY (user_id, currency)
                )
                """).run()
        },
    ]
}
