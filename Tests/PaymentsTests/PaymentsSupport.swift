import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import SQLKit

@testable import Payments

func newId() -> String { UUID().uuidString.lowercased() }

extension ServiceHarness where Service == Payments {
    /// `POST path` with a JSON body and an optional `Idempotency-Key`, routed as `functions.yaml` routes it.
    func post(_ path: String, json: String, key: String? = nil, as identity: TestIdentity?) async throws -> HandlerTester.Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.idempotencyKey] = key }
        let function = path == "/payments" ? "payments-create" : path == "/refunds" ? "payments-refunds-create" : path.hasSuffix("/release") ? "payments-release" : "payments-confirm"
        var parameters: [String: String] = [:]
        if path.hasPrefix("/payments/") { parameters["id"] = String(path.split(separator: "/")[1]) }
        return try await http(function, HandlerTester.Request(method: .post, path: path, pathParameters: parameters, headers: headers, body: Data(json.utf8)), as: identity)
    }

    /// A charge by `company` to `va` (held in escrow for a milestone when `milestone`, by the contracts
    /// service acting for the company, as funding does).
    func pay(_ company: String, _ va: String, cents: Int, currency: String = "USD", method: String = "pm_card_visa", milestone: Bool = false, key: String? = nil) async throws -> PaymentRecord {
        let link = milestone ? #","contractId":"\#(newId())","milestoneId":"\#(newId())""# : ""
        let body = #"{"payeeUserId":"\#(va)","amountCents":\#(cents),"currency":"\#(currency)","paymentMethod":"\#(method)"\#(link)}"#
        let identity: TestIdentity = milestone ? .service(.contracts, actingFor: (company, .company)) : .person(company, .company)
        let response = try await post("/payments", json: body, key: key, as: identity)
        precondition(response.status == .created, String(decoding: response.body, as: UTF8.self))
        return try response.json(PaymentRecord.self)
    }

    func release(_ payment: String, key: String? = nil) async throws -> HandlerTester.Response {
        try await post("/payments/\(payment)/release", json: "{}", key: key, as: .service(.contracts))
    }

    func payment(_ id: String) async throws -> PaymentRecord {
        try await database.withConnection { sql in try await PaymentRecord.find(id, on: sql) }!
    }

    /// Ledger transactions whose entries do not sum to zero in some currency (there must be none).
    func unbalancedTransactions() async throws -> [String] {
        try await database.withConnection { sql in
            try await sql.select().column("transaction_id").from(Ledger.entries).groupBy("transaction_id").groupBy("currency")
                .having(SQLRaw("SUM(amount_cents) <> 0")).all(decoding: TransactionRow.self, keyDecodingStrategy: .convertFromSnakeCase)
        }.map(\.transactionId)
    }

    func balance(_ account: LedgerAccount, currency: String = "USD") async throws -> Int {
        try await database.withConnection { sql in try await Ledger.balances(account, on: sql)[currency] ?? 0 }
    }

    func count(_ table: String) async throws -> Int {
        try await database.withConnection { sql in
            try await sql.select().column(SQLRaw("CAST(COUNT(*) AS BIGINT)"), as: "count").from(table).first(decoding: CountRow.self)?.count ?? 0
        }
    }
}

private struct TransactionRow: Decodable { var transactionId: String }
private struct CountRow: Decodable { var count: Int }
