import Blytz
import Testing

@testable import BlytzRunner

/// What the request path reads by position instead of splitting: the Runtime API's paths and the parts of a
/// `traceparent`, including the forms it must refuse.
@Suite struct RuntimeAPIPathTests {
    @Test func runtimeAPIPathsAreReadWithTheirQueryIgnored() {
        #expect(RuntimeAPIPath("/2018-06-01/runtime/invocation/next") == .next)
        #expect(RuntimeAPIPath("/2018-06-01/runtime/invocation/next?x=1") == .next)
        #expect(RuntimeAPIPath("/2018-06-01/runtime/invocation/abc-1/response") == .answer(invocation: "abc-1", isError: false))
        #expect(RuntimeAPIPath("/2018-06-01/runtime/invocation/abc-1/error") == .answer(invocation: "abc-1", isError: true))
        #expect(RuntimeAPIPath("/2018-06-01/runtime/init/error") == .initError)
        for unknown in [
            "/", "/2018-06-01/runtime/", "/2018-06-01/runtime/invocation/", "/2018-06-01/runtime/invocation//response",
            "/2018-06-01/runtime/invocation/a/b/response", "/2018-06-01/runtime/invocation/a/answer", "/2018-06-01/runtime/invocation/next/x",
            "/2018-06-01/runtime/init/errors", "/2019-01-01/runtime/invocation/next", "/2018-06-01/runtime/invocation/é/response/",
        ] {
            #expect(RuntimeAPIPath(unknown) == .unknown, "\(unknown)")
        }
        #expect(RuntimeAPIPath("/2018-06-01/runtime/invocation/é/response") == .answer(invocation: "é", isError: false))
    }

    @Test func traceparentsAreReadByPositionAndOddOnesAsBefore() {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(FunctionContext.traceId(traceparent) == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceContext.spanID(traceparent) == "00f067aa0ba902b7")
        #expect(TraceContext.xrayHeader(traceparent) == "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1")
        #expect(TraceContext.xrayHeader("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").hasSuffix(";Sampled=0"))
        // A dash inside a field, a fifth part, a short form: what splitting on dashes made of them.
        #expect(FunctionContext.traceId("00-4bf92f3577b34da6a3ce929d0e0e47-6-00f067aa0ba902b7-01") == nil)
        #expect(FunctionContext.traceparentParts("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x") == nil)
        #expect(FunctionContext.traceId("00-abc-def-01") == nil)
        #expect(FunctionContext.traceparentParts("00-abc-def-01").map { [$0.traceId, $0.spanId, $0.flags] } == ["abc", "def", "01"])
        #expect(TraceContext.xrayHeader("nonsense") == "")
    }
}
