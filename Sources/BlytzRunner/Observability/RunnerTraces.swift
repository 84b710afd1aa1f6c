import Blytz
import Foundation
import Tracing

/// The runner's spans, when it traces (`OTEL_*`): each invocation it makes — a request through the gateway
/// or a service's port, a batch of events delivered, a schedule firing — is a span, the worker's span its
/// child. A request continues the caller's `traceparent`; a delivery starts a trace of its own, linked to
/// the spans that published its events.
enum RunnerTraces {
    /// Runs `invoke` with the `traceparent` to hand the worker: a new span's (`name`, under `parent`,
    /// linked to `links`) when `tracer` is set, else a child of `parent` as the runner has always handed on.
    static func invocation<T>(
        _ tracer: (any Tracer)?, _ name: String, kind: SpanKind, parent: String?, links: @autoclosure () -> [String] = [], attributes: [String: String] = [:],
        _ invoke: (_ traceparent: String, _ span: (any Span)?) async -> T
    ) async -> T {
        guard let tracer else { return await invoke(TraceContext.child(of: parent), nil) }
        let context = Traces.context(traceparent: parent, tracer: tracer) ?? .topLevel
        // The links (each envelope read again) only when traced.
        return await Traces.span(tracer, name, kind: kind, parent: context, attributes: attributes, links: links()) { span in
            await invoke(span.flatMap { Traces.traceparent(of: $0, tracer: tracer) } ?? TraceContext.child(of: parent), span)
        }
    }

    /// The `traceparent` each event envelope of a batch carries (what published it).
    static func publishers(of envelopes: [String]) -> [String] {
        envelopes.compactMap { Traces.publisher(of: $0)?.traceparent }
    }
}
