/// The version of the parent <-> runner protocol. A runner that says another version in its
/// hello is refused.
public let runnerProtocolVersion: UInt32 = 2

/// A runner's first frame: who it is and what it proves.
public struct RunnerHello: Equatable, Sendable {
    public var protocolVersion: UInt32
    /// The id the parent gave this runner in `FLAME_PARENT`.
    public var runnerID: String
    /// The per-runner secret the parent gave it; proves the runner was started by the parent.
    public var token: String
    /// Identity of the runner's executable; must equal the parent's.
    public var buildID: String
    /// The runner's process id on its host.
    public var pid: Int64
    /// Where it runs: `local` for a child on the parent's machine, else the cluster node's
    /// name (`SLURMD_NODENAME`) or the host name.
    public var host: String
    /// The cluster's handle on what holds the runner (its `SLURM_JOB_ID`); empty when none.
    public var clusterJob: String

    public init(
        protocolVersion: UInt32 = runnerProtocolVersion, runnerID: String, token: String,
        buildID: String, pid: Int64, host: String, clusterJob: String = ""
    ) {
        self.protocolVersion = protocolVersion
        self.runnerID = runnerID
        self.token = token
        self.buildID = buildID
        self.pid = pid
        self.host = host
        self.clusterJob = clusterJob
    }
}

/// A request to run a job (or start a child service) of a named type on the runner.
public struct RunRequest: Equatable, Sendable {
    /// Unique per runner connection; the reply carries it back.
    public var id: UInt64
    /// The job type's identity, resolved by the runner (see `JobTypeResolver`).
    public var jobType: String
    /// The job's encoded fields.
    public var payload: [UInt8]

    public init(id: UInt64, jobType: String, payload: [UInt8]) {
        self.id = id
        self.jobType = jobType
        self.payload = payload
    }
}

/// Why a job did not produce a result, as it crosses the wire.
public struct WireFailure: Error, Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// The job's `run()` threw.
        case jobThrew = 1
        /// The runner cannot resolve the job's type name.
        case unknownJobType = 2
        /// The runner could not decode the job's fields.
        case decodeFailed = 3
        /// The runner could not encode the job's output.
        case encodeFailed = 4
        /// The job ended because the parent cancelled it.
        case cancelled = 5
        /// The runner is shutting down and accepts no new work.
        case shuttingDown = 6
    }

    public var kind: Kind
    /// The Swift type name of the thrown error (for `jobThrew`).
    public var errorTypeName: String
    public var message: String
    /// When the thrown error is `Codable`: its resolvable type identity and encoded fields.
    public var codableErrorType: String
    public var codableErrorPayload: [UInt8]

    public init(
        kind: Kind, errorTypeName: String = "", message: String, codableErrorType: String = "",
        codableErrorPayload: [UInt8] = []
    ) {
        self.kind = kind
        self.errorTypeName = errorTypeName
        self.message = message
        self.codableErrorType = codableErrorType
        self.codableErrorPayload = codableErrorPayload
    }
}

/// How a call (or a child service) ended on the runner.
public enum CallOutcome: Equatable, Sendable {
    case success([UInt8])
    case failure(WireFailure)
}

/// Frames the parent sends to a runner.
public enum ParentMessage: Equatable, Sendable {
    /// The hello was accepted; the runner now counts as booted.
    case welcome(heartbeatIntervalMilliseconds: UInt32)
    case run(RunRequest)
    case cancel(callID: UInt64)
    case startChild(RunRequest)
    case stopChild(childID: UInt64)
    /// Finish what runs, stop children, accept nothing new, then exit.
    case shutdown
}

/// Frames a runner sends to its parent.
public enum RunnerMessage: Equatable, Sendable {
    case hello(RunnerHello)
    case result(callID: UInt64, CallOutcome)
    case childExited(childID: UInt64, CallOutcome)
    /// Cumulative CPU time (user + system) and resident memory of the runner process.
    case heartbeat(cpuNanoseconds: UInt64, residentBytes: UInt64)
}

// MARK: - Encoding

private enum Tag: UInt8 {
    case welcome = 1, run, cancel, startChild, stopChild, shutdown
    case hello = 64, result, childExited, heartbeat
}

extension ParentMessage {
    /// Appends this message as one frame (length prefix included) to `bytes`.
    public func encodeFrame(into bytes: inout [UInt8]) {
        let start = FrameEncoder.beginFrame(in: &bytes)
        var writer = WireWriter(reservingCapacity: 0)
        swap(&writer.bytes, &bytes)
        switch self {
        case .welcome(let interval):
            writer.write(Tag.welcome.rawValue)
            writer.write(interval)
        case .run(let request):
            writer.write(Tag.run.rawValue)
            writer.write(request)
        case .cancel(let id):
            writer.write(Tag.cancel.rawValue)
            writer.write(id)
        case .startChild(let request):
            writer.write(Tag.startChild.rawValue)
            writer.write(request)
        case .stopChild(let id):
            writer.write(Tag.stopChild.rawValue)
            writer.write(id)
        case .shutdown:
            writer.write(Tag.shutdown.rawValue)
        }
        swap(&writer.bytes, &bytes)
        FrameEncoder.finishFrame(in: &bytes, startingAt: start)
    }

    /// Decodes one frame body.
    public init(frame: ArraySlice<UInt8>) throws(WireError) {
        let decoded = frame.withUnsafeBytes { bytes in Result { () throws(WireError) in try Self(frameBytes: bytes) } }
        self = try decoded.get()
    }

    /// Decodes one frame body where it lies (a socket's read buffer): only the fields the
    /// message keeps are copied.
    public init(frameBytes: UnsafeRawBufferPointer) throws(WireError) {
        var reader = WireReader(frameBytes)
        let rawTag = try reader.readUInt8()
        switch Tag(rawValue: rawTag) {
        case .welcome: self = .welcome(heartbeatIntervalMilliseconds: try reader.readUInt32())
        case .run: self = .run(try reader.readRunRequest())
        case .cancel: self = .cancel(callID: try reader.readUInt64())
        case .startChild: self = .startChild(try reader.readRunRequest())
        case .stopChild: self = .stopChild(childID: try reader.readUInt64())
        case .shutdown: self = .shutdown
        default: throw .unknownMessageTag(rawTag)
        }
        try reader.expectEnd()
    }
}

extension RunnerMessage {
    /// Appends this message as one frame (length prefix included) to `bytes`.
    public func encodeFrame(into bytes: inout [UInt8]) {
        let start = FrameEncoder.beginFrame(in: &bytes)
        var writer = WireWriter(reservingCapacity: 0)
        swap(&writer.bytes, &bytes)
        switch self {
        case .hello(let hello):
            writer.write(Tag.hello.rawValue)
            writer.write(hello.protocolVersion)
            writer.write(hello.runnerID)
            writer.write(hello.token)
            writer.write(hello.buildID)
            writer.write(hello.pid)
            writer.write(hello.host)
            writer.write(hello.clusterJob)
        case .result(let id, let outcome):
            writer.write(Tag.result.rawValue)
            writer.write(id)
            writer.write(outcome)
        case .childExited(let id, let outcome):
            writer.write(Tag.childExited.rawValue)
            writer.write(id)
            writer.write(outcome)
        case .heartbeat(let cpu, let rss):
            writer.write(Tag.heartbeat.rawValue)
            writer.write(cpu)
            writer.write(rss)
        }
        swap(&writer.bytes, &bytes)
        FrameEncoder.finishFrame(in: &bytes, startingAt: start)
    }

    /// Decodes one frame body.
    public init(frame: ArraySlice<UInt8>) throws(WireError) {
        let decoded = frame.withUnsafeBytes { bytes in Result { () throws(WireError) in try Self(frameBytes: bytes) } }
        self = try decoded.get()
    }

    /// Decodes one frame body where it lies (a socket's read buffer): only the fields the
    /// message keeps are copied.
    public init(frameBytes: UnsafeRawBufferPointer) throws(WireError) {
        var reader = WireReader(frameBytes)
        let rawTag = try reader.readUInt8()
        switch Tag(rawValue: rawTag) {
        case .hello:
            self = .hello(
                RunnerHello(
                    protocolVersion: try reader.readUInt32(), runnerID: try reader.readString(),
                    token: try reader.readString(), buildID: try reader.readString(),
                    pid: try reader.readInt64(), host: try reader.readString(), clusterJob: try reader.readString()))
        case .result:
            self = .result(callID: try reader.readUInt64(), try reader.readOutcome())
        case .childExited:
            self = .childExited(childID: try reader.readUInt64(), try reader.readOutcome())
        case .heartbeat:
            self = .heartbeat(cpuNanoseconds: try reader.readUInt64(), residentBytes: try reader.readUInt64())
        default:
            throw .unknownMessageTag(rawTag)
        }
        try reader.expectEnd()
    }
}

extension WireWriter {
    fileprivate mutating func write(_ request: RunRequest) {
        write(request.id)
        write(request.jobType)
        write(blob: request.payload)
    }

    fileprivate mutating func write(_ outcome: CallOutcome) {
        switch outcome {
        case .success(let payload):
            write(UInt8(0))
            write(blob: payload)
        case .failure(let failure):
            write(failure.kind.rawValue)
            write(failure.errorTypeName)
            write(failure.message)
            write(failure.codableErrorType)
            write(blob: failure.codableErrorPayload)
        }
    }
}

extension WireReader {
    fileprivate mutating func readRunRequest() throws(WireError) -> RunRequest {
        RunRequest(id: try readUInt64(), jobType: try readString(), payload: Array(try readBlob()))
    }

    fileprivate mutating func readOutcome() throws(WireError) -> CallOutcome {
        let rawKind = try readUInt8()
        if rawKind == 0 { return .success(Array(try readBlob())) }
        guard let kind = WireFailure.Kind(rawValue: rawKind) else {
            throw .invalidValue("failure kind \(rawKind)")
        }
        return .failure(
            WireFailure(
                kind: kind, errorTypeName: try readString(), message: try readString(),
                codableErrorType: try readString(), codableErrorPayload: Array(try readBlob())))
    }

    fileprivate func expectEnd() throws(WireError) {
        guard isAtEnd else { throw .trailingBytes(bytes.count) }
    }
}
