import Blytz

/// The AWS SAM template of a manifest (`blytz template`): what `blytz local` serves, as AWS runs it.
///
/// - every function is an `AWS::Serverless::Function` on `provided.al2023` whose `Handler` is the function's
///   name (Lambda hands it to the `bootstrap` as `_HANDLER`), with the manifest's memory, timeout and maximum
///   concurrency (`scaling.max`, as reserved concurrency), from its package `<packages>/<function>.zip`;
/// - HTTP functions are routes of one HTTP API, with the manifest's paths (`{key+}` is API Gateway's greedy
///   parameter too); mount it under `/api` with an API mapping, as the local gateway is;
/// - every queue function has its own SQS queue (batch size and window from the manifest, partial batch
///   failures reported) and, when it dead-letters, a dead-letter queue after `maxRetries + 1` receives;
/// - schedules are EventBridge schedules; AWS fires at most once a minute and has no seconds, so a manifest
///   schedule finer than that runs once a minute there (each such case is listed in `notes`);
/// - WebSocket functions are the routes of one WebSocket API; every function of their service may push to
///   its connections (`execute-api:ManageConnections`) through `BLYTZ_WEBSOCKET_ENDPOINT`;
/// - each service's database URL, the service key and every service's `secrets` are parameters that are
///   never echoed; nothing secret is written in the template.
public enum SAMTemplate {
    /// Where `blytz package` writes the zips and the template names them, unless told otherwise.
    public static let defaultPackages = ".build/lambda"

    /// The template and what it could not say exactly as the manifest does.
    public struct Result: Sendable {
        public var template: JSONValue
        public var notes: [String]
    }

    /// Why a manifest has no template.
    public struct Unsupported: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func build(_ manifest: Manifest, packages: String = defaultPackages) throws(Unsupported) -> Result {
        var parameters: [String: JSONValue] = [
            "ServiceKey": secretParameter("The key services derive their shared secrets from (BLYTZ_SERVICE_KEY)."),
        ]
        var resources: [String: JSONValue] = [
            "HttpApi": ["Type": "AWS::Serverless::HttpApi", "Properties": ["StageName": "$default"]],
        ]
        let httpApiURL: JSONValue = ["Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"]
        var outputs: [String: JSONValue] = ["HttpApiUrl": ["Description": "The HTTP API (the gateway's /api).", "Value": httpApiURL]]
        var notes: [String] = []
        let websocketServices = Set(manifest.functions.compactMap { function -> String? in
            if case .websocket = function.trigger { function.service } else { nil }
        })
        for service in manifest.services {
            parameters[databaseParameter(service)] = secretParameter("The PostgreSQL URL of \(service.database) (postgres://user:password@host:5432/\(service.database)).")
            for secret in service.secrets {
                parameters[secretParameter(secret, of: service)] = secretParameter("\(secret) of the \(service.name) service.")
            }
        }
        if !websocketServices.isEmpty {
            resources["WebSocketApi"] = [
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": ["Name": ["Fn::Sub": "${AWS::StackName}-websocket"], "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"],
            ]
            resources["WebSocketStage"] = [
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": ["ApiId": ["Ref": "WebSocketApi"], "StageName": "live", "AutoDeploy": true],
            ]
            outputs["WebSocketUrl"] = ["Description": "The WebSocket API.", "Value": ["Fn::Sub": "wss://${WebSocketApi}.execute-api.${AWS::Region}.amazonaws.com/live"]]
        }

        for function in manifest.functions {
            guard let service = manifest.service(named: function.service) else { continue }
            let id = logicalId(function.name)
            var environment: [String: JSONValue] = [
                "BLYTZ_SERVICE": .string(service.name),
                "BLYTZ_DATABASE": .string(service.database),
                "\(service.name.uppercased())_DATABASE_URL": ["Ref": .string(databaseParameter(service))],
                "BLYTZ_SERVICE_KEY": ["Ref": "ServiceKey"],
            ]
            for secret in service.secrets { environment[secret] = ["Ref": .string(secretParameter(secret, of: service))] }
            for other in manifest.services {
                environment["BLYTZ_SERVICE_URL_\(other.name.uppercased())"] = httpApiURL
            }
            var policies: [JSONValue] = []
            if websocketServices.contains(service.name) {
                environment["BLYTZ_WEBSOCKET_ENDPOINT"] = ["Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.amazonaws.com/live"]
                policies.append([
                    "Statement": [[
                        "Effect": "Allow", "Action": ["execute-api:ManageConnections"],
                        "Resource": ["Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/*"],
                    ]],
                ])
            }
            for (key, value) in function.environment { environment[key] = .string(value) }
            let timeout = max(1, min(900, Int((function.timeout.milliseconds + 999) / 1000)))
            var properties: [String: JSONValue] = [
                "Handler": .string(function.name),
                "CodeUri": .string("\(packages)/\(function.name).zip"),
                "MemorySize": .number(Double(max(128, min(10_240, function.memoryMB)))),
                "Timeout": .number(Double(timeout)),
                "ReservedConcurrentExecutions": .number(Double(function.scaling.max)),
                "Environment": ["Variables": .object(environment)],
            ]
            if !policies.isEmpty { properties["Policies"] = .array(policies) }

            switch function.trigger {
            case .http(let method, let path):
                properties["Events"] = [
                    "Http": ["Type": "HttpApi", "Properties": ["ApiId": ["Ref": "HttpApi"], "Method": .string(method.uppercased()), "Path": .string(path.description)]],
                ]
            case .queue(let queue):
                // SQS hides a received message for the visibility timeout: six times the function's, as AWS advises.
                var queueProperties: [String: JSONValue] = ["VisibilityTimeout": .number(Double(6 * timeout))]
                if queue.deadLetter {
                    resources["\(id)DeadLetterQueue"] = ["Type": "AWS::SQS::Queue", "Properties": ["MessageRetentionPeriod": 1_209_600]]
                    queueProperties["RedrivePolicy"] = [
                        "deadLetterTargetArn": ["Fn::GetAtt": .array([.string("\(id)DeadLetterQueue"), "Arn"])],
                        "maxReceiveCount": .number(Double(queue.maxRetries + 1)),
                    ]
                }
                resources["\(id)Queue"] = ["Type": "AWS::SQS::Queue", "Properties": .object(queueProperties)]
                var event: [String: JSONValue] = [
                    "Queue": ["Fn::GetAtt": .array([.string("\(id)Queue"), "Arn"])],
                    "BatchSize": .number(Double(queue.batchSize)),
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                ]
                let window = Int(queue.batchWindow.milliseconds / 1000)
                if window > 0 { event["MaximumBatchingWindowInSeconds"] = .number(Double(min(300, window))) }
                properties["Events"] = ["Queue": ["Type": "SQS", "Properties": .object(event)]]
            case .schedule(let cron):
                let (expression, note) = try awsExpression(cron, function: function.name)
                if let note { notes.append(note) }
                properties["Events"] = ["Schedule": ["Type": "Schedule", "Properties": ["Schedule": .string(expression)]]]
            case .websocket(let route):
                resources["\(id)Integration"] = [
                    "Type": "AWS::ApiGatewayV2::Integration",
                    "Properties": [
                        "ApiId": ["Ref": "WebSocketApi"], "IntegrationType": "AWS_PROXY",
                        "IntegrationUri": ["Fn::Sub": .string("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${\(id)Function.Arn}/invocations")],
                    ],
                ]
                resources["\(id)Route"] = [
                    "Type": "AWS::ApiGatewayV2::Route",
                    "Properties": [
                        "ApiId": ["Ref": "WebSocketApi"], "RouteKey": .string(route),
                        "Target": ["Fn::Sub": .string("integrations/${\(id)Integration}")],
                    ],
                ]
                resources["\(id)Permission"] = [
                    "Type": "AWS::Lambda::Permission",
                    "Properties": [
                        "Action": "lambda:InvokeFunction", "FunctionName": ["Ref": .string("\(id)Function")], "Principal": "apigateway.amazonaws.com",
                        "SourceArn": ["Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/*"],
                    ],
                ]
            }
            resources["\(id)Function"] = ["Type": "AWS::Serverless::Function", "Properties": .object(properties)]
        }
        let template: JSONValue = [
            "AWSTemplateFormatVersion": "2010-09-09",
            "Transform": "AWS::Serverless-2016-10-31",
            "Description": .string("BlytzWork: every function of \(manifest.file.split(separator: "/").last.map(String.init) ?? "functions.yaml"), as `blytz template` writes it."),
            "Globals": ["Function": ["Runtime": "provided.al2023", "Architectures": ["x86_64"]]],
            "Parameters": .object(parameters),
            "Resources": .object(resources),
            "Outputs": .object(outputs),
        ]
        return Result(template: template, notes: notes)
    }

    /// `users-on-review-posted` → `UsersOnReviewPosted`: CloudFormation's logical ids are alphanumeric.
    public static func logicalId(_ name: String) -> String {
        name.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func databaseParameter(_ service: ServiceSpec) -> String { logicalId(service.name) + "DatabaseUrl" }

    static func secretParameter(_ secret: String, of service: ServiceSpec) -> String {
        logicalId(service.name) + logicalId(secret.lowercased())
    }

    static func secretParameter(_ description: String) -> JSONValue {
        ["Type": "String", "NoEcho": true, "Description": .string(description)]
    }

    /// The EventBridge form of `cron` (`cron(minutes hours day-of-month month day-of-week year)`, Sunday 1), and
    /// a note when AWS cannot run it exactly.
    static func awsExpression(_ cron: CronSchedule, function: String) throws(Unsupported) -> (String, String?) {
        func list(_ values: Set<Int>, _ range: ClosedRange<Int>, names: [String] = [], base: Int = 0) -> String {
            if values == Set(range) { return "*" }
            return values.sorted().map { names.isEmpty ? "\($0)" : names[$0 - base] }.joined(separator: ",")
        }
        if cron.daysRestricted && cron.weekdaysRestricted {
            throw Unsupported(description: "\(function): '\(cron.expression)' restricts both the day of the month and the day of the week, which EventBridge cannot")
        }
        let days = cron.daysRestricted ? list(cron.days, 1...31) : (cron.weekdaysRestricted ? "?" : "*")
        let weekdays = cron.weekdaysRestricted ? list(cron.weekdays, 0...6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]) : "?"
        let expression = "cron(\(list(cron.minutes, 0...59)) \(list(cron.hours, 0...23)) \(days) \(list(cron.months, 1...12)) \(weekdays) *)"
        let note: String? = switch cron.seconds.count {
        case 1 where cron.seconds == [0]: nil
        case 1: "\(function): '\(cron.expression)' runs at the start of each matching minute on AWS (EventBridge has no seconds)"
        default: "\(function): '\(cron.expression)' runs once a minute on AWS, EventBridge's finest schedule"
        }
        return (expression, note)
    }
}
