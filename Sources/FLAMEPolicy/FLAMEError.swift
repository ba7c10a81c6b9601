/// An error raised by flame-swift itself (as opposed to one thrown by a job, which arrives as
/// ``RemoteJobError``).
///
/// Compare ``code`` to the static codes; ``message`` is for humans and says what happened and,
/// where there is one, what to do.
public struct FLAMEError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case invalidConfiguration, invalidJobType, timeout, runnerExited, runnerKilled
            case bootFailed, buildMismatch, unknownJobType, jobDecodingFailed, outputDecodingFailed
            case jobEncodingFailed, poolShutDown, runnerShuttingDown, childExited, notARunner, unknownRunner
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A ``PoolConfiguration`` value is out of range.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The job type has no name a runner can resolve (private or function-local).
        public static let invalidJobType = Code(.invalidJobType)
        /// The call waited or ran longer than its timeout.
        public static let timeout = Code(.timeout)
        /// The runner process exited while the call was in flight.
        public static let runnerExited = Code(.runnerExited)
        /// The runner was killed (by an operator, or because a job ignored cancellation).
        public static let runnerKilled = Code(.runnerKilled)
        /// A runner could not be started.
        public static let bootFailed = Code(.bootFailed)
        /// The runner's executable is not the parent's build.
        public static let buildMismatch = Code(.buildMismatch)
        /// The runner does not know the job's type.
        public static let unknownJobType = Code(.unknownJobType)
        /// The runner could not decode the job's fields.
        public static let jobDecodingFailed = Code(.jobDecodingFailed)
        /// The parent could not decode the job's output.
        public static let outputDecodingFailed = Code(.outputDecodingFailed)
        /// The job or its output could not be encoded.
        public static let jobEncodingFailed = Code(.jobEncodingFailed)
        /// The pool is shutting down and accepts no calls.
        public static let poolShutDown = Code(.poolShutDown)
        /// The runner was shutting down when the call reached it.
        public static let runnerShuttingDown = Code(.runnerShuttingDown)
        /// A placed child service is no longer running.
        public static let childExited = Code(.childExited)
        /// No runner of that id is in the pool.
        public static let unknownRunner = Code(.unknownRunner)
        /// A runner-only operation was used in a process that is not a runner.
        public static let notARunner = Code(.notARunner)

        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
