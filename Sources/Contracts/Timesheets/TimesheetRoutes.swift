import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A row of `timesheets`: time a VA worked on an hourly contract, on one day of the contract's timezone.
/// `startAt`/`endAt` are the UTC instants; `minutes` is derived from them, never taken from the client.
/// The day is `date` in JSON and in the table.
struct TimesheetRecord: Codable, Sendable, Equatable, ResponseBody, ContractItem {
    var id: String
    var contractId: String
    var vaUserId: String
    var workDate: String
    var startAt: String
    var endAt: String
    var minutes: Int
    var description: String?
    var status: TimesheetStatus
    var approvedBy: String?
    var invoiceId: String?
    var createdAt: String
    var updatedAt: String

    static let table = "timesheets"

    /// Hours, to two decimals (`minutes` is exact).
    var hours: Double { (Double(minutes) / 60 * 100).rounded() / 100 }

    enum CodingKeys: String, CodingKey {
        case id, contractId, vaUserId, workDate = "date", startAt, endAt, minutes, description, status, approvedBy, invoiceId, createdAt, updatedAt
    }

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> TimesheetRecord? {
        guard id.isUUID else { return nil }
        return try await sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
            .first(decoding: TimesheetRecord.self, keyDecodingStrategy: .snakeCase)
    }

    func insert(on sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
    }

    func save(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
            .where("id", .equal, SQLBind(id)).run()
    }
}

/// The body of `POST /contracts/{id}/timesheets` and `PATCH /timesheets/{id}`: the day in the contract's
/// timezone, the local start and end times (`HH:MM`; the end may be `24:00`), and what was done.
struct TimesheetInput: Codable, Sendable, Validatable {
    var date: String?
    var startTime: String?
    var endTime: String?
    var description: String?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if let date, !Day.isValid(date) { errors.append(.init(field: "date", message: "must be a date such as 2027-01-31")) }
        if let startTime, Self.minutes(startTime) == nil || startTime == "24:00" { errors.append(.init(field: "startTime", message: "must be a time such as 09:30")) }
        if let endTime, Self.minutes(endTime) == nil { errors.append(.init(field: "endTime", message: "must be a time such as 17:00 (or 24:00)")) }
        if let description, description.count > 2_000 { errors.append(.init(field: "description", message: "must be at most 2000 characters")) }
        return errors
    }

    /// Minutes after midnight of `HH:MM` (00:00 to 24:00).
    static func minutes(_ time: String) -> Int? {
        let parts = time.split(separator: ":")
        guard time.count == 5, parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...24).contains(hours), (0...59).contains(minutes) else { return nil }
        let total = hours * 60 + minutes
        return total <= 1_440 ? total : nil
    }
}

/// The rules of a timesheet entry, checked in the transaction that writes it, under the VA's own row lock
/// (`timesheet_writers`), so two concurrent entries cannot both pass the overlap check.
enum Timesheets {
    /// The entry's instants for `date` from `start` to `end` (local times) in `zone`: within that one day,
    /// the end after the start and not in the future.
    static func span(date: String, start: String, end: String, zone: TimeZone, now: Date) throws(HTTPError) -> (start: Date, end: Date, minutes: Int) {
        guard let from = TimesheetInput.minutes(start), let to = TimesheetInput.minutes(end) else { throw .unprocessable([.init(field: "startTime", message: "is not a time")]) }
        guard to > from else { throw .unprocessable([.init(field: "endTime", message: "must be after startTime")]) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = date.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, let midnight = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])) else {
            throw .unprocessable([.init(field: "date", message: "is not a date")])
        }
        let startAt = midnight.addingTimeInterval(Double(from) * 60), endAt = midnight.addingTimeInterval(Double(to) * 60)
        guard endAt <= now else { throw .unprocessable([.init(field: "endTime", message: "must not be in the future")]) }
        return (startAt, endAt, Int(endAt.timeIntervalSince(startAt) / 60))
    }

    /// Locks `va`'s timesheet writes and refuses an entry overlapping another of theirs (on any contract,
    /// rejected ones aside).
    static func refuseOverlap(va: String, start: Date, end: Date, except id: String?, on sql: any SQLDatabase) async throws {
        try await sql.insert(into: "timesheet_writers").columns("va_user_id").values(SQLBind(va)).ignoringConflicts(with: ["va_user_id"]).run()
        try await sql.select().column("va_user_id").from("timesheet_writers").where("va_user_id", .equal, SQLBind(va)).for(.update).run()
        struct Clash: Decodable { var id: String; var start_at: String; var end_at: String }
        var query = sql.select().columns("id", "start_at", "end_at").from(TimesheetRecord.table).where("va_user_id", .equal, SQLBind(va))
            .where("status", .notEqual, SQLBind(TimesheetStatus.rejected.rawValue))
            .where("start_at", .lessThan, SQLBind(end.iso)).where("end_at", .greaterThan, SQLBind(start.iso))
        if let id { query = query.where("id", .notEqual, SQLBind(id)) }
        if let clash = try await query.first(decoding: Clash.self) {
            throw HTTPError(409, detail: "This overlaps the entry \(clash.id) (\(clash.start_at) to \(clash.end_at)).", errors: [.init(field: "startTime", message: "overlaps another entry")])
        }
    }

    static func zone(of contract: ContractRecord) -> TimeZone { TimeZone(identifier: contract.timezone) ?? TimeZone(identifier: "UTC")! }
}

/// `POST /contracts/{id}/timesheets` (the VA of an active hourly contract): an entry for one day of the
/// contract's timezone. Hours come from the start and end; no future time, no overlap with the VA's
/// other entries (so never more than 24 hours in a day).
struct CreateTimesheet: HTTPFunction {
    static let access = Access.people(.va)

    func handle(_ request: FunctionRequest<TimesheetInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<TimesheetRecord> {
        let id = try request.parameter("id")
        let now = context.now
        return .created(try await context.database.transaction { sql in
            let contract = try await ContractRecord.seen(id, by: caller, on: sql, forUpdate: true)
            guard contract.vaUserId == caller.userId else { throw HTTPError.forbidden("Only the contract's VA logs time.") }
            let input = try request.input
            var missing: [Problem.FieldError] = []
            for (field, value) in [("date", input.date), ("startTime", input.startTime), ("endTime", input.endTime)] where value == nil {
                missing.append(.init(field: field, message: "is required"))
            }
            guard missing.isEmpty, let date = input.date, let start = input.startTime, let end = input.endTime else { throw HTTPError.unprocessable(missing) }
            guard contract.type == .hourly else { throw HTTPError(409, detail: "Time is logged on hourly contracts; this one is fixed-price.") }
            guard contract.status == .active else { throw IllegalTransition(what: "contract", state: contract.status.rawValue, action: "worked on") }
            let span = try Timesheets.span(date: date, start: start, end: end, zone: Timesheets.zone(of: contract), now: now)
            try await Timesheets.refuseOverlap(va: contract.vaUserId, start: span.start, end: span.end, except: nil, on: sql)
            let entry = TimesheetRecord(
                id: UUID().uuidString.lowercased(), contractId: contract.id, vaUserId: contract.vaUserId, workDate: date, startAt: span.start.iso,
                endAt: span.end.iso, minutes: span.minutes, description: input.description, status: .pending, createdAt: now.iso, updatedAt: now.iso
            )
            try await entry.insert(on: sql)
            return entry
        })
    }
}

/// `GET /contracts/{id}/timesheets` (its parties, admins): by day, `?status=` to filter.
struct ListTimesheets: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var status: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            status = reader.choice("status", TimesheetStatus.allCases.map(\.rawValue))
            try reader.check()
            page = try PageRequest(&reader, sort: "date")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<TimesheetRecord>> {
        let id = try request.parameter("id")
        let filters = try request.read(Query.self)
        let rows = try await context.database.withConnection { sql in
            let contract = try await ContractRecord.seen(id, by: caller, on: sql)
            var query = sql.select().column("*").from(TimesheetRecord.table).where("contract_id", .equal, SQLBind(contract.id))
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            return try await Keyset(column: "start_at", idColumn: "id", descending: false).select(query, page: filters.page)
                .all(decoding: TimesheetRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(filters.page.page(rows, { $0 }) { ($0.startAt, $0.id) })
    }
}

/// `PATCH /timesheets/{id}` (its VA, while pending): the same rules as a new entry.
struct UpdateTimesheet: HTTPFunction {
    static let access = Access.people(.va)

    func handle(_ request: FunctionRequest<TimesheetInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<TimesheetRecord> {
        let id = try request.parameter("id")
        let now = context.now
        return .ok(try await context.database.transaction { sql in
            var (entry, contract) = try await TimesheetRecord.seen(id, "timesheet entry", by: caller, on: sql)
            guard entry.vaUserId == caller.userId else { throw HTTPError.forbidden("Only the VA edits their time.") }
            let input = try request.input
            entry.status = try entry.status.after(.edit)
            let zone = Timesheets.zone(of: contract)
            let date = input.date ?? entry.workDate
            let start = input.startTime ?? Self.local(entry.startAt, on: entry.workDate, in: zone)
            let end = input.endTime ?? Self.local(entry.endAt, on: entry.workDate, in: zone)
            let span = try Timesheets.span(date: date, start: start, end: end, zone: zone, now: now)
            try await Timesheets.refuseOverlap(va: entry.vaUserId, start: span.start, end: span.end, except: entry.id, on: sql)
            (entry.workDate, entry.startAt, entry.endAt, entry.minutes) = (date, span.start.iso, span.end.iso, span.minutes)
            if let description = input.description { entry.description = description }
            entry.updatedAt = now.iso
            try await entry.save(on: sql)
            return entry
        })
    }

    /// The local `HH:MM` of `instant` on `day` in `zone` (24:00 for the next midnight).
    static func local(_ instant: String, on day: String, in zone: TimeZone) -> String {
        guard let date = Date(iso: instant) else { return "00:00" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        if Day.of(date, in: zone) != day { return "24:00" }
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }
}

/// `DELETE /timesheets/{id}` (its VA, while pending).
struct DeleteTimesheet: HTTPFunction {
    static let access = Access.people(.va)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let id = try request.parameter("id")
        try await context.database.transaction { sql in
            let (entry, _) = try await TimesheetRecord.seen(id, "timesheet entry", by: caller, on: sql)
            guard entry.vaUserId == caller.userId else { throw HTTPError.forbidden("Only the VA deletes their time.") }
            _ = try entry.status.after(.delete)
            try await sql.delete(from: TimesheetRecord.table).where("id", .equal, SQLBind(entry.id)).run()
        }
        return .noContent
    }
}

/// `POST /timesheets/{id}/approve` and `/reject` (the company, or an admin): a pending entry is approved
/// (billable on the next invoice) or rejected.
struct ReviewTimesheet: HTTPFunction {
    static let access = Access.people(.company, .admin)

    let action: TimesheetStatus.Action

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<TimesheetRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var (entry, contract) = try await TimesheetRecord.seen(id, "timesheet entry", by: caller, on: sql)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company reviews time.") }
            entry.status = try entry.status.after(action)
            entry.approvedBy = caller.userId
            entry.updatedAt = now
            try await entry.save(on: sql)
            return entry
        })
    }
}
