import BlytzData
import Testing

/// The import's ids are RFC 9562 UUIDv5 in BlytzWork's namespace: what any other UUIDv5 implementation
/// (here Python's `uuid.uuid5`) derives from the same table and legacy id.
@Suite struct LegacyImportTests {
    @Test func idsAreUUIDv5OfTheTableAndTheLegacyId() {
        #expect(LegacyImport.id("users", "u1") == "2c60c7f8-6f61-52b6-88ac-01550d713045")
        #expect(LegacyImport.id("job_postings", "cjp000000000000000000000001") == "a2103308-f940-5671-b756-75db8751f48e")
        #expect(LegacyImport.id("users", "u1") != LegacyImport.id("users", "u2"))
    }
}
