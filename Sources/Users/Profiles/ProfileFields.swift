import Foundation
import Blytz
import BlytzEvents
import BlytzServices

/// Who is looking at a profile, which decides the fields they see.
enum Audience: Sendable {
    /// The profile's own user, or an admin: everything.
    case owner
    /// Another signed-in user: no earnings, no résumé unless they are a company.
    case company
    case other
}

/// A spoken language and how well.
struct Language: Codable, Sendable, Equatable {
    var language: String
    var proficiency: String

    static let proficiencies = ["basic", "conversational", "fluent", "native"]
}

/// One past job.
struct WorkExperience: Codable, Sendable, Equatable {
    var title: String
    var company: String
    /// `YYYY-MM`.
    var startDate: String
    var endDate: String?
    var description: String?
}

/// One school or course.
struct Education: Codable, Sendable, Equatable {
    var institution: String
    var degree: String?
    var field: String?
    var startYear: Int?
    var endYear: Int?
}

/// Field checks shared by the profile inputs; each appends what is wrong, naming the field.
struct FieldCheck {
    var errors: [Problem.FieldError] = []

    mutating func text(_ value: String?, _ field: String, required: Bool, max: Int, min: Int = 1) {
        guard let value else {
            if required { errors.append(.init(field: field, message: "is required")) }
            return
        }
        let count = value.trimmingCharacters(in: .whitespacesAndNewlines).count
        if count < min || value.count > max { errors.append(.init(field: field, message: "must be \(min) to \(max) characters")) }
    }

    mutating func country(_ value: String?, required: Bool) {
        guard let value else {
            if required { errors.append(.init(field: "country", message: "is required")) }
            return
        }
        if value.count != 2 || !value.allSatisfy({ $0.isASCII && $0.isLetter }) {
            errors.append(.init(field: "country", message: "must be an ISO 3166-1 alpha-2 code such as PH"))
        }
    }

    mutating func id(_ value: String?, _ field: String) {
        if let value, !value.isUUID { errors.append(.init(field: field, message: "must be a file id (UUID)")) }
    }

    mutating func oneOf(_ value: String?, _ field: String, _ allowed: [String]) {
        if let value, !allowed.contains(value) { errors.append(.init(field: field, message: "must be one of \(allowed.joined(separator: ", "))")) }
    }
}
