import BlytzManifest
import BlytzObjects
import SigV4
import NIOCore
import Synchronization
import Tracing

/// What every listener of the runner shares: the manifest, the routes, one pool per function, the
/// WebSocket hub and the invocation log.
final class RunnerCore: Sendable {
    let manifest: Manifest
    /// The services this runner hosts (every one for `blytz local`, one for `blytz serve`).
    let served: [String]
    /// Where the service executables are.
    let lookup: ExecutableLookup
    let routes: RouteTable
    let pools: [String: FunctionPool]
    let events: any EventPath
    let hub: WebSocketHub
    let log: InvocationLog
    let ports: PortRegistry
    let group: any EventLoopGroup
    /// Where logs, SQLite files and the development mailbox live.
    let dataDirectory: String
    /// Request bodies above this are answered 413 (API Gateway's limit for Lambda payloads is 6 MB).
    let maxBodyBytes: Int
    /// What presigned URLs of the local object endpoint are signed with (from the service key).
    let objectCredentials: AWSCredentials
    /// The monolith the gateway forwards its remaining prefixes to, if the manifest names one.
    let legacy: LegacyProxy?
    /// What the runner's spans are made with, when traces are exported (`OTEL_*`).
    let tracer: (any Tracer)?
    /// Recent invocations and spans, for the dashboard (`blytz local`).
    var activity: ActivityStore? { log.activity }
    /// Where workers send their spans while the dashboard is on.
    let ingest: SpanIngest?
    private let drainingFlag = Atomic<Bool>(false)

    init(
        manifest: Manifest, served: [String], lookup: ExecutableLookup, pools: [String: FunctionPool], events: any EventPath, connections: ConnectionRegistry?,
        log: InvocationLog, ports: PortRegistry, group: any EventLoopGroup, dataDirectory: String, maxBodyBytes: Int, serviceKey: String,
        legacy: LegacyProxy? = nil, tracer: (any Tracer)? = nil, ingest: SpanIngest? = nil
    ) {
        self.legacy = legacy
        self.ingest = ingest
        self.tracer = tracer
        self.manifest = manifest
        self.served = served
        self.lookup = lookup
        self.routes = RouteTable(manifest: manifest)
        self.pools = pools
        self.events = events
        self.log = log
        self.ports = ports
        self.group = group
        self.dataDirectory = dataDirectory
        self.maxBodyBytes = maxBodyBytes
        self.objectCredentials = LocalObjects.credentials(serviceKey: serviceKey)
        self.hub = WebSocketHub(manifest: manifest, served: served, pools: pools, connections: connections, log: log)
    }

    /// Whether shutdown has begun (`/ready` answers 503).
    var draining: Bool { drainingFlag.load(ordering: .relaxed) }

    func beginDraining() {
        drainingFlag.store(true, ordering: .relaxed)
    }

    /// Invokes `function` with a raw event and measures it.
    func invoke(_ function: String, payload: ByteBuffer, requestID: String, traceparent: String?) async -> (result: InvocationResult, milliseconds: Double) {
        guard let pool = pools[function] else { return (.failed(.startFailed("no function named '\(function)'")), 0) }
        let start = ContinuousClock.now
        let result = await pool.invoke(id: requestID, payload: payload, traceparent: traceparent, on: group.any())
        return (result, (ContinuousClock.now - start).fractionalMilliseconds)
    }
}

extension InvocationResult {
    var coldStart: Bool {
        switch self {
        case .response(_, let cold), .functionError(_, let cold): cold
        case .failed: false
        }
    }

    /// What the function answered, if it answered.
    var output: ByteBuffer? {
        switch self {
        case .response(let output, _), .functionError(let output, _): output
        case .failed: nil
        }
    }
}
