import BlytzData
import BlytzTesting
import Logging
import SQLKit
import Testing

@Suite struct ColumnNameTests {
    struct Awkward: Codable, Equatable {
        var id = "a"
        var contractId = "b"
        var vaUserId = "c"
        var amountCents = 1
        var fileURL = "d"
        var myURLValue = "e"
        var userIDs = "f"
        var x1Y2 = "g"
        var A = "h"
        var ID = "i"
        var isPaidOut = true
        var abc1D2e = "j"
        var aBCdEF = "k"
        var zZ = "l"
        var stripePaymentIntentId: String? = nil
    }

    /// The names are SQLKit's own, so tables made with its conversion keep their columns.
    @Test func namesAreSQLKitsSnakeCaseNames() throws {
        let ours = try SQLQueryEncoder(keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).encode(Awkward()).map(\.0)
        let sqlKits = try SQLQueryEncoder(keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil).encode(Awkward()).map(\.0)
        #expect(ours == sqlKits)
        #expect(ours.contains("contract_id") && ours.contains("va_user_id") && ours.contains("stripe_payment_intent_id"))
        #expect(ColumnName.snakeCased("created") == "created")
        #expect(ColumnName.snakeCased("") == "")
    }

    /// A record written and read back with the strategies, on both engines.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func recordsRoundTrip(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            let record = Awkward(contractId: "k", stripePaymentIntentId: "pi_1")
            let rows = try await database.withConnection { sql in
                var create = sql.create(table: "awkward")
                for column in try SQLQueryEncoder(keyEncodingStrategy: .snakeCase).encode(record).map(\.0) {
                    create = create.column(column, type: column == "amount_cents" ? .bigint : column == "is_paid_out" ? .custom(SQLRaw("BOOLEAN")) : .text)
                }
                try await create.run()
                try await sql.insert(into: "awkward").model(record, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
                return try await sql.select().column("*").from("awkward").all(decoding: Awkward.self, keyDecodingStrategy: .snakeCase)
            }
            #expect(rows == [record])
        }
    }
}
