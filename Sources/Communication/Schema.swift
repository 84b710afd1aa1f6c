import BlytzData
import SQLKit

/// `communication_db`, version by version. Times are ISO-8601 UTC text; JSON-shaped fields are text.
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "conversations, messages, notifications, preferences, connections, directory, mail, audit") { sql in
            let autoincrement = sql.dialect.name == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            try await sql.raw("""
                CREATE TABLE conversations (
                    id TEXT PRIMARY KEY,
                    user_a TEXT NOT NULL,
                    user_b TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    last_message_at TEXT NOT NULL,
                    last_message_preview TEXT,
                    UNIQUE (user_a, user_b)
                )
                """).run()
            try await sql.raw("CREATE INDEX conversations_a ON conversations (user_a, last_message_at, id)").run()
            try await sql.raw("CREATE INDEX conversations_b ON conversations (user_b, last_message_at, id)").run()
            try await sql.raw("""
                CREATE TABLE messages (
                    id TEXT PRIMARY KEY,
                    conversation_id TEXT NOT NULL REFERENCES conversations (id),
                    sender_user_id TEXT NOT NULL,
                    recipient_user_id TEXT NOT NULL,
                    content TEXT NOT NULL,
                    type TEXT NOT NULL,
                    status TEXT NOT NULL,
                    metadata TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    read_at TEXT,
                    deleted_at TEXT
                )
                """).run()
            try await sql.raw("CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX messages_unread ON messages (recipient_user_id, status, conversation_id)").run()
            try await sql.raw("""
                CREATE TABLE notifications (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    title TEXT NOT NULL,
                    message TEXT NOT NULL,
                    link TEXT,
                    data TEXT NOT NULL,
                    priority TEXT NOT NULL,
                    read BOOLEAN NOT NULL,
                    event_id TEXT,
                    created_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX notifications_by_user ON notifications (user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX notifications_unread ON notifications (user_id, read)").run()
            try await sql.raw("""
                CREATE TABLE notification_preferences (
                    user_id TEXT NOT NULL,
                    event_type TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    enabled BOOLEAN NOT NULL,
                    PRIMARY KEY (user_id, event_type, channel)
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE connections (
                    connection_id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    connected_at TEXT NOT NULL,
                    last_seen_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX connections_by_user ON connections (user_id)").run()
            try await sql.raw("""
                CREATE TABLE user_directory (
                    user_id TEXT PRIMARY KEY,
                    role TEXT,
                    display_name TEXT,
                    avatar_file_id TEXT,
                    email TEXT,
                    status TEXT,
                    fetched_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE mail_queue (
                    id TEXT PRIMARY KEY,
                    recipient TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    body TEXT NOT NULL,
                    event_id TEXT,
                    created_at TEXT NOT NULL,
                    sent_at TEXT,
                    attempts BIGINT NOT NULL,
                    last_error TEXT
                )
                """).run()
            try await sql.raw("CREATE INDEX mail_queue_unsent ON mail_queue (sent_at, created_at)").run()
            try await sql.raw("""
                CREATE TABLE audit_log (
                    seq \(unsafeRaw: autoincrement),
                    event_id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    source TEXT NOT NULL,
                    subject TEXT,
                    time TEXT NOT NULL,
                    envelope TEXT NOT NULL,
                    recorded_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX audit_log_by_type ON audit_log (type, seq)").run()
        },
    ]
}
