import BlytzData
import SQLKit

/// `files_db`, version by version. Times are ISO-8601 UTC text (sortable); sizes are bytes.
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "file metadata, who a private file is shared with, portfolio items") { sql in
            try await sql.raw("""
                CREATE TABLE files (
                    id TEXT PRIMARY KEY,
                    owner_user_id TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    size BIGINT NOT NULL,
                    sha256 TEXT,
                    visibility TEXT NOT NULL,
                    status TEXT NOT NULL,
                    expires_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX files_by_owner ON files (owner_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX files_by_status ON files (status, expires_at)").run()
            try await sql.raw("""
                CREATE TABLE file_shares (
                    file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL,
                    PRIMARY KEY (file_id, user_id)
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE portfolio_items (
                    id TEXT PRIMARY KEY,
                    va_user_id TEXT NOT NULL,
                    title TEXT NOT NULL,
                    description TEXT,
                    file_id TEXT REFERENCES files (id) ON DELETE SET NULL,
                    thumbnail_file_id TEXT REFERENCES files (id) ON DELETE SET NULL,
                    category TEXT,
                    technologies TEXT NOT NULL,
                    project_url TEXT,
                    featured BOOLEAN NOT NULL,
                    rank INTEGER NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX portfolio_by_va ON portfolio_items (va_user_id, rank, created_at, id)").run()
        },
        Migration(2, "files known by their URL elsewhere") { sql in
            try await sql.raw("ALTER TABLE files ADD COLUMN external_url TEXT").run()
        },
    ]
}
