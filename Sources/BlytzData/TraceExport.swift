import Blytz
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// Spans exported over OTLP/HTTP by swift-otel, configured by the standard `OTEL_*` variables and off unless
/// they name an endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), as
/// `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` also keep it off. Nothing is bootstrapped
/// globally: the tracer is handed to whoever traces (a worker's dependencies, the runner's core).
public struct TraceExport: Sendable {
    public let tracer: any Tracer
    /// Batches and sends the spans; runs beside whoever traces, and flushes when shut down gracefully.
    public let service: any Service

    /// The export `environment` asks for, under `serviceName` unless `OTEL_SERVICE_NAME` says otherwise.
    public static func configured(serviceName: String, environment: [String: String], logger: Logger) throws -> TraceExport? {
        guard !isDisabled(environment),
              environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil
        else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        // Spans leave within a fraction of a second (a worker may be stopped at any time); OTEL_BSP_SCHEDULE_DELAY overrides.
        configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(200)
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return TraceExport(tracer: backend.factory, service: backend.service)
    }

    /// Whether `environment` turns span export off (`OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`).
    public static func isDisabled(_ environment: [String: String]) -> Bool {
        environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" || environment["OTEL_TRACES_EXPORTER"]?.lowercased() == "none"
    }

    /// Runs the export in the background until `stop` is called: it then sends what is waiting.
    public func start() -> @Sendable () async -> Void {
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "otel")))
        let running = Task { try? await group.run() }
        return {
            await group.triggerGracefulShutdown()
            _ = await running.result
        }
    }
}
