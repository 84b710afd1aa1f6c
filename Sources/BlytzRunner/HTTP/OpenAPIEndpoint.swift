import Blytz
import BlytzEvents
import BlytzManifest
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// `GET /openapi.json` on the gateway: the document `blytz openapi` writes, built from the executables
/// as they are now (after a `--watch` rebuild, the next request sees the new handlers).
enum OpenAPIEndpoint {
    static func answer(_ core: RunnerCore) async -> Response {
        do {
            // Reading the descriptions starts each service's executable: off the event loops.
            let document = try await NIOThreadPool.singleton.runIfActive {
                OpenAPIDocument.build(core.manifest, descriptions: try ServiceDescription.read(core.manifest, lookup: core.lookup))
            }
            return EventMapping.json(document)
        } catch {
            return EventMapping.problem(503, "The API document cannot be built right now: \(error).")
        }
    }
}
