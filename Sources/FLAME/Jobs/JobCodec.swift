package import FLAMEWire

/// Encodes jobs and their outcomes for the wire, and runs decoded jobs on the runner.
///
/// Fields use ``CompactEncoder``'s binary format: parent and runner are the same build, so
/// the format needs no self-description beyond keys, and byte arrays travel as one blob.
/// (JSON took 0.9 s for a 1 MiB `[UInt8]` round trip; this takes milliseconds.)
package enum JobCodec {
    /// A job ready to send: its type's wire name and its encoded fields.
    static func encode<J: Job>(_ job: J) throws(FLAMEError) -> (type: String, payload: [UInt8]) {
        (try JobTypeResolver.name(of: J.self), try encodeFields(job, what: "job \(J.self)"))
    }

    static func encodeService<S: ChildService>(_ service: S) throws(FLAMEError) -> (type: String, payload: [UInt8]) {
        (try JobTypeResolver.name(of: S.self), try encodeFields(service, what: "service \(S.self)"))
    }

    /// The most encoded fields a job or an output may have: a frame's limit less room for
    /// the type name and header. A bigger frame would be refused by the receiving side, which
    /// cuts the connection — so it is refused here, for this call alone, with a reason.
    static let maximumPayload = FrameDecoder.defaultMaximumFrameSize - 64 * 1024

    private static func encodeFields<T: Encodable>(_ value: T, what: String) throws(FLAMEError) -> [UInt8] {
        let payload: [UInt8]
        do {
            payload = try CompactEncoder().encode(value)
        } catch {
            throw FLAMEError(.jobEncodingFailed, "cannot encode \(what): \(error)")
        }
        if let tooLarge = sizeProblem(payload, what: what) { throw FLAMEError(.jobEncodingFailed, tooLarge) }
        return payload
    }

    private static func sizeProblem(_ payload: [UInt8], what: String) -> String? {
        guard payload.count > maximumPayload else { return nil }
        let mebibytes = (Double(payload.count) / 1_048_576 * 10).rounded() / 10
        return "\(what) is \(mebibytes) MiB encoded; a call carries at most 64 MiB "
            + "(less 64 KiB for framing): pass large data by reference, a path or a URL"
    }

    /// The caller's view of an outcome: the decoded output, or the error it stands for.
    static func decode<Output: Decodable>(_ outcome: CallOutcome, as _: Output.Type) throws -> Output {
        switch outcome {
        case .success(let payload):
            do {
                return try CompactDecoder().decode(Output.self, from: payload)
            } catch {
                throw FLAMEError(.outputDecodingFailed, "cannot decode output as \(Output.self): \(error)")
            }
        case .failure(let failure):
            throw error(for: failure)
        }
    }

    static func error(for failure: WireFailure) -> any Error & Sendable {
        switch failure.kind {
        case .jobThrew:
            return RemoteJobError(
                typeName: failure.errorTypeName, message: failure.message,
                underlying: decodeCodableError(failure))
        case .unknownJobType: return FLAMEError(.unknownJobType, failure.message)
        case .decodeFailed: return FLAMEError(.jobDecodingFailed, failure.message)
        case .encodeFailed: return FLAMEError(.jobEncodingFailed, failure.message)
        case .cancelled: return CancellationError()
        case .shuttingDown: return FLAMEError(.runnerShuttingDown, failure.message)
        }
    }

    private static func decodeCodableError(_ failure: WireFailure) -> (any Error & Sendable)? {
        guard !failure.codableErrorType.isEmpty,
            let type = JobTypeResolver.type(named: failure.codableErrorType) as? any (Error & Decodable).Type
        else { return nil }
        func decode<E: Error & Decodable>(_: E.Type) -> (any Error & Sendable)? {
            try? CompactDecoder().decode(E.self, from: failure.codableErrorPayload)
        }
        return decode(type)
    }

    // MARK: - Runner side

    /// Whether the request's job type is an ``InlineJob`` (an unknown type is not: its
    /// failure is reported from the cooperative pool like any other).
    static func isInline(_ request: RunRequest) -> Bool {
        JobTypeResolver.type(named: request.jobType) is any InlineJob.Type
    }

    /// Runs the job named in `request` and returns how it ended. Never throws: every failure
    /// becomes a ``WireFailure`` the caller will see.
    package static func run(_ request: RunRequest) async -> CallOutcome {
        guard let type = JobTypeResolver.type(named: request.jobType) else {
            return .failure(
                WireFailure(
                    kind: .unknownJobType,
                    message: "the runner has no job type named \(request.jobType); "
                        + "is the parent running the same build?"))
        }
        guard let jobType = type as? any Job.Type else {
            return .failure(
                WireFailure(kind: .unknownJobType, message: "\(String(reflecting: type)) does not conform to Job"))
        }
        return await run(jobType, payload: request.payload)
    }

    private static func run<J: Job>(_: J.Type, payload: [UInt8]) async -> CallOutcome {
        let job: J
        do {
            job = try CompactDecoder().decode(J.self, from: payload)
        } catch {
            return .failure(WireFailure(kind: .decodeFailed, message: "cannot decode \(J.self): \(error)"))
        }
        let output: J.Output
        do {
            output = try await job.run()
        } catch {
            return .failure(failure(for: error))
        }
        let encoded: [UInt8]
        do {
            encoded = try CompactEncoder().encode(output)
        } catch {
            return .failure(WireFailure(kind: .encodeFailed, message: "cannot encode output of \(J.self): \(error)"))
        }
        if let tooLarge = sizeProblem(encoded, what: "the output of \(J.self)") {
            return .failure(WireFailure(kind: .encodeFailed, message: tooLarge))
        }
        return .success(encoded)
    }

    /// Decodes the service named in `request`, or describes why not.
    static func service(for request: RunRequest) -> Result<any ChildService, WireFailure> {
        guard let type = JobTypeResolver.type(named: request.jobType) as? any ChildService.Type else {
            return .failure(
                WireFailure(kind: .unknownJobType, message: "the runner has no service type named \(request.jobType)"))
        }
        func decode<S: ChildService>(_: S.Type) -> Result<any ChildService, WireFailure> {
            do {
                return .success(try CompactDecoder().decode(S.self, from: request.payload))
            } catch {
                return .failure(WireFailure(kind: .decodeFailed, message: "cannot decode \(S.self): \(error)"))
            }
        }
        return decode(type)
    }

    /// How an error thrown by a job or service crosses the wire.
    static func failure(for error: any Error) -> WireFailure {
        if error is CancellationError {
            return WireFailure(kind: .cancelled, message: "cancelled")
        }
        var failure = WireFailure(
            kind: .jobThrew, errorTypeName: String(reflecting: type(of: error)),
            message: String(describing: error))
        if let codable = error as? any Encodable & Decodable,
            let name = try? JobTypeResolver.name(of: type(of: codable))
        {
            func encode<E: Encodable>(_ value: E) -> [UInt8]? { try? CompactEncoder().encode(value) }
            if let payload = encode(codable) {
                failure.codableErrorType = name
                failure.codableErrorPayload = payload
            }
        }
        return failure
    }
}
