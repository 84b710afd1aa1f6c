/// A cron expression: five fields (minute hour day-of-month month day-of-week) or six with seconds
/// first, or a macro (`@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`). Evaluated in UTC.
///
/// ```
/// let cron = try CronSchedule("*/15 9-17 * * mon-fri")
/// let next = cron.next(after: now)   // seconds since 1970
/// ```
public struct CronSchedule: Sendable, Equatable {
    /// Why an expression was refused.
    public struct Invalid: Error, Sendable {
        public var reason: String
    }

    public let expression: String
    let seconds: Set<Int>
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public init(_ expression: String) throws(Invalid) {
        self.expression = expression
        let macros = [
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        ]
        let text = macros[expression.lowercased()] ?? expression
        var fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 || fields.count == 6 else {
            throw Invalid(reason: "'\(expression)' has \(fields.count) fields; cron takes 5 (or 6 with seconds first)")
        }
        if fields.count == 5 { fields.insert("0", at: 0) }
        let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        seconds = try Self.field(fields[0], "second", 0...59)
        minutes = try Self.field(fields[1], "minute", 0...59)
        hours = try Self.field(fields[2], "hour", 0...23)
        days = try Self.field(fields[3], "day of month", 1...31)
        months = try Self.field(fields[4], "month", 1...12, names: monthNames, nameBase: 1)
        // 7 is Sunday too.
        weekdays = Set(try Self.field(fields[5], "day of week", 0...7, names: dayNames, nameBase: 0).map { $0 % 7 })
        daysRestricted = fields[3] != "*" && fields[3] != "?"
        weekdaysRestricted = fields[5] != "*" && fields[5] != "?"
    }

    static func field(
        _ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0
    ) throws(Invalid) -> Set<Int> {
        func value(_ token: Substring) throws(Invalid) -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let index = names.firstIndex(of: token.lowercased()) { return index + nameBase }
            throw Invalid(reason: "'\(token)' is not a valid \(name) (\(range.lowerBound)-\(range.upperBound))")
        }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { throw Invalid(reason: "'\(part)' is not a valid \(name) list item") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw Invalid(reason: "'\(part)' has a bad step for \(name)") }
                step = parsed
            }
            var lower: Int
            var upper: Int
            if pieces[0] == "*" || pieces[0] == "?" {
                (lower, upper) = (range.lowerBound, range.upperBound)
            } else if let dash = pieces[0].firstIndex(of: "-") {
                lower = try value(pieces[0][..<dash])
                upper = try value(pieces[0][pieces[0].index(after: dash)...])
                guard lower <= upper else { throw Invalid(reason: "'\(part)' is an empty \(name) range") }
            } else {
                lower = try value(pieces[0])
                upper = pieces.count == 2 ? range.upperBound : lower
            }
            result.formUnion(stride(from: lower, through: upper, by: step))
        }
        return result
    }

    /// The first firing time strictly after `time` (seconds since 1970, UTC), within about five years.
    public func next(after time: Int64) -> Int64? {
        var candidate = time + 1
        let limit = time + 5 * 366 * 86_400
        while candidate <= limit {
            let date = CivilTime(epochSeconds: candidate)
            if !months.contains(date.month) {
                candidate = CivilTime.epochSeconds(year: date.month == 12 ? date.year + 1 : date.year, month: date.month % 12 + 1, day: 1)
                continue
            }
            if !dayMatches(date) {
                candidate = CivilTime.epochSeconds(year: date.year, month: date.month, day: date.day) + 86_400
                continue
            }
            if !hours.contains(date.hour) {
                candidate = candidate - Int64(date.minute * 60 + date.second) + 3600
                continue
            }
            if !minutes.contains(date.minute) {
                candidate = candidate - Int64(date.second) + 60
                continue
            }
            if !seconds.contains(date.second) {
                candidate += 1
                continue
            }
            return candidate
        }
        return nil
    }

    func dayMatches(_ date: CivilTime) -> Bool {
        let dayOK = days.contains(date.day)
        let weekdayOK = weekdays.contains(date.weekday)
        // As in Vixie cron: when both fields are restricted, either one may match.
        if daysRestricted && weekdaysRestricted { return dayOK || weekdayOK }
        return dayOK && weekdayOK
    }
}

/// A UTC calendar breakdown of epoch seconds (Howard Hinnant's civil-from-days).
public struct CivilTime: Sendable {
    public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int

    public init(epochSeconds: Int64) {
        let days = Int(epochSeconds.floorDivided(by: 86_400))
        let rest = Int(epochSeconds - Int64(days) * 86_400)
        hour = rest / 3600
        minute = rest % 3600 / 60
        second = rest % 60
        weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    static func epochSeconds(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int64(era * 146_097 + doe - 719_468) * 86_400
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}
