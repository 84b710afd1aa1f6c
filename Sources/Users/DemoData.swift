import Foundation
import Blytz
import BlytzEvents
import BlytzServices

/// The demo VAs of `seed`, and the synthetic profiles of `seed-profiles`.
enum DemoData {
    struct DemoVA {
        var email: String
        var input: VAProfileInput
    }

    static let vas: [DemoVA] = [
        DemoVA(email: "maria@demo.blytz.work", input: VAProfileInput(
            name: "Maria Santos", bio: "Customer support lead with six years on Zendesk and Shopify stores.", country: "PH", timezone: "Asia/Manila",
            hourlyRateCents: 900, currency: "USD", skills: ["Customer Support", "Zendesk", "Shopify", "Email Management"],
            languages: [Language(language: "English", proficiency: "fluent"), Language(language: "Tagalog", proficiency: "native")],
            availability: "full-time",
            workExperience: [WorkExperience(title: "Support Lead", company: "ShopHelp", startDate: "2019-03", endDate: nil, description: "Led a team of five.")]
        )),
        DemoVA(email: "arjun@demo.blytz.work", input: VAProfileInput(
            name: "Arjun Mehta", bio: "Bookkeeper and data analyst: QuickBooks, Excel models, monthly reporting.", country: "IN", timezone: "Asia/Kolkata",
            hourlyRateCents: 1500, currency: "USD", skills: ["Bookkeeping", "QuickBooks", "Excel", "Data Analysis"],
            languages: [Language(language: "English", proficiency: "fluent"), Language(language: "Hindi", proficiency: "native")],
            availability: "part-time"
        )),
        DemoVA(email: "lucia@demo.blytz.work", input: VAProfileInput(
            name: "Lucía Gómez", bio: "Social media manager and content writer for Spanish and English audiences.", country: "CO", timezone: "America/Bogota",
            hourlyRateCents: 1200, currency: "USD", skills: ["Social Media", "Content Writing", "Canva", "Spanish"],
            languages: [Language(language: "Spanish", proficiency: "native"), Language(language: "English", proficiency: "fluent")],
            availability: "hourly"
        )),
        DemoVA(email: "grace@demo.blytz.work", input: VAProfileInput(
            name: "Grace Okafor", bio: "Executive assistant: calendars, travel, inbox zero, and meeting notes.", country: "NG", timezone: "Africa/Lagos",
            hourlyRateCents: 1000, currency: "USD", skills: ["Executive Assistance", "Calendar Management", "Email Management", "Travel Planning"],
            languages: [Language(language: "English", proficiency: "native")], availability: "full-time"
        )),
    ]

    static func profile(userId: String, _ input: VAProfileInput, createdAt: String) -> VAProfileRecord {
        var record = VAProfileRecord(
            userId: userId, name: "", bio: "", country: "", hourlyRateCents: 0, currency: "USD", skills: "[]", languages: "[]",
            availability: "full-time", available: true, workExperience: "[]", education: "[]", averageRating: 0, ratingSum: 0,
            totalReviews: 0, completedJobs: 0, earnedCents: 0, profileViews: 0, verificationLevel: "none", visible: true,
            createdAt: createdAt, updatedAt: createdAt
        )
        record.apply(input)
        return record
    }

    static let firstNames = ["Maria", "Jose", "Ana", "Juan", "Priya", "Rahul", "Aisha", "Omar", "Chen", "Linh", "Grace", "John", "Fatima", "Ali", "Sofia", "Diego", "Olena", "Ivan", "Amara", "Kwame"]
    static let lastNames = ["Santos", "Reyes", "Cruz", "Garcia", "Sharma", "Patel", "Khan", "Ahmed", "Nguyen", "Tran", "Okafor", "Mensah", "Silva", "Costa", "Kovalenko", "Petrov", "Diaz", "Lopez", "Mwangi", "Otieno"]
    static let countries = ["PH", "PH", "PH", "IN", "IN", "PK", "NG", "KE", "UA", "BR", "MX", "CO", "US", "VN", "ID", "ZA", "EG", "RO", "AR", "IS"]
    static let skills = [
        "Customer Support", "Email Management", "Data Entry", "Excel", "Bookkeeping", "QuickBooks", "Social Media", "Content Writing",
        "Copywriting", "SEO", "Shopify", "WordPress", "Canva", "Photoshop", "Video Editing", "Lead Generation", "Cold Calling",
        "Calendar Management", "Travel Planning", "Research", "Project Management", "Asana", "Trello", "Zendesk", "HubSpot",
        "Salesforce", "Transcription", "Translation", "Spanish", "Amazon Seller Central", "Google Sheets", "Podcast Editing",
        "Community Management", "Recruiting", "Payroll", "Appointment Setting", "Market Research", "Product Listing", "Zapier", "Notion",
    ]
    static let words = [
        "reliable", "detail", "oriented", "remote", "assistant", "experienced", "fast", "accurate", "friendly", "proactive",
        "ecommerce", "startup", "agency", "clients", "reports", "inbox", "scheduling", "support", "sales", "marketing",
        "operations", "finance", "listings", "campaigns", "spreadsheets", "organized", "communication", "deadlines", "growth", "quality",
    ]

    /// The `index`th synthetic VA: a user row and a profile, drawn from `generator`.
    static func synthetic(index: Int, using generator: inout some RandomNumberGenerator) -> (UserRecord, VAProfileRecord) {
        let id = UUID().uuidString.lowercased()
        let name = "\(firstNames.randomElement(using: &generator)!) \(lastNames.randomElement(using: &generator)!)"
        let created = Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 60).iso
        let user = UserRecord(
            id: id, email: "va\(index)-\(id.prefix(8))@bench.blytz.work", passwordHash: "!", role: .va, status: .active, emailVerified: true,
            preferences: "{}", displayName: name, createdAt: created, updatedAt: created
        )
        let skillCount = Int.random(in: 3...8, using: &generator)
        var chosen: [String] = []
        while chosen.count < skillCount {
            let skill = skills.randomElement(using: &generator)!
            if !chosen.contains(skill) { chosen.append(skill) }
        }
        let bio = (0..<12).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
        let reviews = Int.random(in: 0...60, using: &generator)
        let sum = reviews == 0 ? 0 : (0..<reviews).reduce(0) { total, _ in total + Int.random(in: 3...5, using: &generator) }
        let availability = ["full-time", "part-time", "hourly", "unavailable"].randomElement(using: &generator)!
        let profile = VAProfileRecord(
            userId: id, name: name, bio: bio, country: countries.randomElement(using: &generator)!, timezone: nil,
            hourlyRateCents: Int.random(in: 3...50, using: &generator) * 100, currency: "USD", skills: jsonText(chosen), languages: "[]",
            availability: availability, available: availability != "unavailable", workExperience: "[]", education: "[]",
            averageRating: reviews == 0 ? 0 : (Double(sum) / Double(reviews) * 100).rounded() / 100, ratingSum: sum, totalReviews: reviews,
            completedJobs: reviews, earnedCents: 0, profileViews: 0, verificationLevel: "none", visible: true, createdAt: created, updatedAt: created
        )
        return (user, profile)
    }
}
