import Blytz

/// ISO-4217 currencies and their minor units: amounts are integers in the currency's smallest unit
/// (cents for USD, yen for JPY, fils for KWD), so `amountCents: 1500` is 15.00 USD but 1,500 JPY.
enum Currency {
    /// Currencies whose minor unit is the unit itself (no decimals).
    static let zeroDecimal: Set<String> = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
    /// Currencies with three decimals.
    static let threeDecimal: Set<String> = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]
    /// The other active codes, with two decimals.
    static let twoDecimal: Set<String> = [
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND", "BOB", "BRL", "BSD",
        "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
        "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD",
        "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
        "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR",
        "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SYP", "SZL", "THB", "TJS",
        "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWL",
    ]

    /// The number of decimals of `code`'s minor unit; nil for a code that is not an active ISO-4217 currency.
    static func minorDigits(_ code: String) -> Int? {
        if twoDecimal.contains(code) { return 2 }
        if zeroDecimal.contains(code) { return 0 }
        if threeDecimal.contains(code) { return 3 }
        return nil
    }

    /// The 422 entry for `field` when `code` is not a currency.
    static func problem(_ code: String, field: String = "currency") -> Problem.FieldError? {
        minorDigits(code) == nil ? .init(field: field, message: "must be an ISO 4217 currency code such as USD") : nil
    }

    /// `amount` minor units written for people: `1,234.50 USD`, `1,500 JPY`.
    static func format(_ amount: Int, _ code: String) -> String {
        let digits = minorDigits(code) ?? 2
        let sign = amount < 0 ? "-" : ""
        var divisor = 1
        for _ in 0..<digits { divisor *= 10 }
        let whole = String(abs(amount) / divisor)
        var grouped = ""
        for (index, character) in whole.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        let units = String(grouped.reversed())
        guard digits > 0 else { return "\(sign)\(units) \(code)" }
        let fraction = String(abs(amount) % divisor)
        return "\(sign)\(units).\(String(repeating: "0", count: digits - fraction.count))\(fraction) \(code)"
    }
}

/// Fees as basis points of an amount, rounded half up to a whole minor unit (so 10% of 1,005 cents is 101
/// cents, of 1,004 is 100): a rule that never leaves a fraction of a cent unaccounted.
enum Fee {
    /// `basisPoints` (hundredths of a percent) of `amount`, rounded half up.
    static func share(_ amount: Int, basisPoints: Int) -> Int {
        (amount * basisPoints + 5_000) / 10_000
    }

    /// The part of `fee` (charged on `gross`) that belongs to `part` of it, rounded half up: what a refund
    /// of `part` takes back from the fee.
    static func proportion(of fee: Int, gross: Int, part: Int) -> Int {
        guard gross > 0 else { return 0 }
        return (fee * part * 2 + gross) / (gross * 2)
    }
}
