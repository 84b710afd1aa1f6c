/// What the fixtures' `slow` function answers.
struct SlowReply: Decodable {
    var pid: Int32
    var waitedMs: Int
}
