import BlytzData
import SQLKit

/// `contracts_db`, version by version. Times are ISO-8601 UTC text (sortable); money is integer cents.
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "contracts, milestones, timesheets and invoices") { sql in
            try await sql.raw("""
                CREATE TABLE contracts (
                    id TEXT PRIMARY KEY,
                    title TEXT NOT NULL,
                    company_user_id TEXT NOT NULL,
                    va_user_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    amount_cents BIGINT,
                    hourly_rate_cents BIGINT,
                    currency TEXT NOT NULL,
                    terms TEXT,
                    tax_rate_basis_points INTEGER NOT NULL,
                    discount_basis_points INTEGER NOT NULL,
                    payment_days INTEGER NOT NULL,
                    timezone TEXT NOT NULL,
                    start_date TEXT,
                    end_date TEXT,
                    status TEXT NOT NULL,
                    company_signed_at TEXT,
                    va_signed_at TEXT,
                    total_paid_cents BIGINT NOT NULL,
                    proposal_id TEXT UNIQUE,
                    job_id TEXT,
                    job_posting_id TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX contracts_by_company ON contracts (company_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX contracts_by_va ON contracts (va_user_id, created_at, id)").run()
            try await sql.raw("""
                CREATE TABLE milestones (
                    id TEXT PRIMARY KEY,
                    contract_id TEXT NOT NULL REFERENCES contracts (id),
                    title TEXT NOT NULL,
                    description TEXT,
                    amount_cents BIGINT NOT NULL,
                    due_date TEXT,
                    status TEXT NOT NULL,
                    fundings INTEGER NOT NULL,
                    payment_id TEXT,
                    invoice_id TEXT,
                    submitted_at TEXT,
                    approved_at TEXT,
                    paid_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX milestones_by_contract ON milestones (contract_id, created_at, id)").run()
            try await sql.raw("""
                CREATE TABLE timesheets (
                    id TEXT PRIMARY KEY,
                    contract_id TEXT NOT NULL REFERENCES contracts (id),
                    va_user_id TEXT NOT NULL,
                    date TEXT NOT NULL,
                    start_at TEXT NOT NULL,
                    end_at TEXT NOT NULL,
                    minutes INTEGER NOT NULL,
                    description TEXT,
                    status TEXT NOT NULL,
                    approved_by TEXT,
                    invoice_id TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX timesheets_by_contract ON timesheets (contract_id, start_at, id)").run()
            try await sql.raw("CREATE INDEX timesheets_by_va ON timesheets (va_user_id, start_at)").run()
            // One row per VA, locked by every timesheet write of theirs, so the overlap check and the write
            // are one step for each VA on both engines.
            try await sql.raw("CREATE TABLE timesheet_writers (va_user_id TEXT PRIMARY KEY)").run()
            try await sql.raw("""
                CREATE TABLE invoices (
                    id TEXT PRIMARY KEY,
                    contract_id TEXT NOT NULL REFERENCES contracts (id),
                    company_user_id TEXT NOT NULL,
                    va_user_id TEXT NOT NULL,
                    number TEXT NOT NULL UNIQUE,
                    year INTEGER NOT NULL,
                    sequence INTEGER NOT NULL,
                    lines TEXT NOT NULL,
                    subtotal_cents BIGINT NOT NULL,
                    discount_cents BIGINT NOT NULL,
                    tax_cents BIGINT NOT NULL,
                    total_cents BIGINT NOT NULL,
                    paid_from_escrow_cents BIGINT NOT NULL,
                    due_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    issued_by TEXT NOT NULL,
                    due_date TEXT NOT NULL,
                    status TEXT NOT NULL,
                    payment_id TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    UNIQUE (year, sequence)
                )
                """).run()
            try await sql.raw("CREATE INDEX invoices_by_contract ON invoices (contract_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX invoices_by_company ON invoices (company_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX invoices_by_va ON invoices (va_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX invoices_by_status ON invoices (status, due_date)").run()
            // The last number issued in each year: taken under the row's lock, so numbers are gapless.
            try await sql.raw("CREATE TABLE invoice_numbers (year INTEGER PRIMARY KEY, last INTEGER NOT NULL)").run()
        },
        Migration(2, "the monolith's invoice numbers") { sql in
            // An imported invoice is renumbered in this service's sequence; the number the monolith gave it stays here.
            try await sql.raw("ALTER TABLE invoices ADD COLUMN legacy_number TEXT").run()
        },
    ]
}
