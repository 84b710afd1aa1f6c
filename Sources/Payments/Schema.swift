import BlytzData
import SQLKit

/// `payments_db`, version by version. Times are ISO-8601 UTC text (sortable); money is integer minor units
/// with its ISO-4217 currency beside it.
enum Schema {
    static let migrations: [Migration] = [
        Migration(1, "payments, refunds, the ledger, payout accounts and transfers, webhook events") { sql in
            try await sql.raw("""
                CREATE TABLE payments (
                    id TEXT PRIMARY KEY,
                    payer_user_id TEXT NOT NULL,
                    payee_user_id TEXT NOT NULL,
                    contract_id TEXT,
                    milestone_id TEXT,
                    invoice_id TEXT,
                    description TEXT,
                    amount_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    escrow BOOLEAN NOT NULL,
                    platform_fee_cents BIGINT NOT NULL,
                    processor_fee_cents BIGINT NOT NULL,
                    refunded_cents BIGINT NOT NULL,
                    released_cents BIGINT NOT NULL,
                    status TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    provider_ref TEXT,
                    payment_method TEXT,
                    next_action TEXT,
                    client_secret TEXT,
                    failure_reason TEXT,
                    released_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX payments_by_payer ON payments (payer_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX payments_by_payee ON payments (payee_user_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX payments_by_contract ON payments (contract_id, created_at, id)").run()
            try await sql.raw("CREATE UNIQUE INDEX payments_by_provider_ref ON payments (provider, provider_ref)").run()
            try await sql.raw("""
                CREATE TABLE refunds (
                    id TEXT PRIMARY KEY,
                    payment_id TEXT NOT NULL REFERENCES payments (id),
                    requested_by TEXT NOT NULL,
                    amount_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    reason TEXT,
                    status TEXT NOT NULL,
                    provider_ref TEXT,
                    failure_reason TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX refunds_by_payment ON refunds (payment_id, created_at, id)").run()
            try await sql.raw("CREATE INDEX refunds_by_time ON refunds (created_at, id)").run()
            // Every movement of money is one transaction whose entries sum to zero per currency.
            try await sql.raw("""
                CREATE TABLE ledger_transactions (
                    id TEXT PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    payment_id TEXT,
                    refund_id TEXT,
                    transfer_id TEXT,
                    created_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE ledger_entries (
                    id TEXT PRIMARY KEY,
                    transaction_id TEXT NOT NULL REFERENCES ledger_transactions (id),
                    account TEXT NOT NULL,
                    user_id TEXT,
                    payment_id TEXT,
                    contract_id TEXT,
                    milestone_id TEXT,
                    amount_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    created_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX ledger_entries_by_account ON ledger_entries (account, user_id, currency)").run()
            try await sql.raw("CREATE INDEX ledger_entries_by_payment ON ledger_entries (payment_id)").run()
            try await sql.raw("CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id)").run()
            try await sql.raw("""
                CREATE TABLE payout_accounts (
                    user_id TEXT PRIMARY KEY,
                    provider TEXT NOT NULL,
                    account_ref TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE transfers (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    account_ref TEXT NOT NULL,
                    amount_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    status TEXT NOT NULL,
                    provider_ref TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX transfers_by_user ON transfers (user_id, created_at, id)").run()
            try await sql.raw("""
                CREATE TABLE webhook_events (
                    provider TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    payment_id TEXT,
                    outcome TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    PRIMARY KEY (provider, event_id)
                )
                """).run()
            // The simulated provider's own book: what it charged, and the status updates it sends later.
            try await sql.raw("""
                CREATE TABLE simulated_intents (
                    id TEXT PRIMARY KEY,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    amount_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    payment_method TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    refunded_cents BIGINT NOT NULL,
                    created_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE simulated_webhooks (
                    id TEXT PRIMARY KEY,
                    body TEXT NOT NULL,
                    deliver_at TEXT NOT NULL,
                    delivered_at TEXT
                )
                """).run()
            try await sql.raw("CREATE INDEX simulated_webhooks_due ON simulated_webhooks (delivered_at, deliver_at)").run()
        },
        Migration(2, "the copy of contracts, reviews, disputes and their evidence") { sql in
            // What this service knows of a contract: its parties and how far it got (reviews need it completed,
            // disputes active).
            try await sql.raw("""
                CREATE TABLE contracts (
                    id TEXT PRIMARY KEY,
                    company_user_id TEXT NOT NULL,
                    va_user_id TEXT NOT NULL,
                    title TEXT,
                    status TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("""
                CREATE TABLE reviews (
                    id TEXT PRIMARY KEY,
                    contract_id TEXT NOT NULL,
                    reviewer_user_id TEXT NOT NULL,
                    target_user_id TEXT NOT NULL,
                    rating INTEGER NOT NULL,
                    categories TEXT NOT NULL,
                    comment TEXT,
                    created_at TEXT NOT NULL,
                    UNIQUE (contract_id, reviewer_user_id)
                )
                """).run()
            try await sql.raw("CREATE INDEX reviews_by_target ON reviews (target_user_id, created_at, id)").run()
            try await sql.raw("""
                CREATE TABLE disputes (
                    id TEXT PRIMARY KEY,
                    contract_id TEXT NOT NULL,
                    payment_id TEXT,
                    opened_by TEXT NOT NULL,
                    company_user_id TEXT NOT NULL,
                    va_user_id TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    status TEXT NOT NULL,
                    held_cents BIGINT NOT NULL,
                    currency TEXT NOT NULL,
                    resolution TEXT,
                    released_cents BIGINT,
                    refunded_cents BIGINT,
                    resolution_note TEXT,
                    resolved_by TEXT,
                    resolved_at TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                )
                """).run()
            // One dispute at a time per contract, whoever opens it and however many at once.
            try await sql.raw("CREATE UNIQUE INDEX disputes_one_open ON disputes (contract_id) WHERE status <> 'resolved'").run()
            try await sql.raw("CREATE INDEX disputes_by_time ON disputes (created_at, id)").run()
            try await sql.raw("""
                CREATE TABLE dispute_evidence (
                    id TEXT PRIMARY KEY,
                    dispute_id TEXT NOT NULL REFERENCES disputes (id),
                    added_by TEXT NOT NULL,
                    text TEXT,
                    file_id TEXT,
                    created_at TEXT NOT NULL
                )
                """).run()
            try await sql.raw("CREATE INDEX dispute_evidence_by_dispute ON dispute_evidence (dispute_id, created_at, id)").run()
        },
    ]
}
