import CFLAMEShims
import FLAMEWire
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A runner's live connection: runs the parent's calls and child services as tasks,
/// cancels them on request, reports heartbeats, and exits when told to or orphaned.
final class RunnerSession: Sendable {
    /// A running call. The task is attached after it is created (outside the lock); a cancel
    /// that arrives before that is remembered and applied on attach.
    private struct CallEntry {
        var task: Task<Void, Never>?
        var cancelRequested = false
    }

    private struct State {
        var welcomed = false
        var calls: [UInt64: CallEntry] = [:]
        var children: [UInt64: Task<Void, Never>] = [:]
        var shuttingDown = false
    }
    private let writer: SocketWriter
    private let logger: Logger
    private let state = Mutex(State())
    /// Where ``InlineJob`` calls run: the reader thread.
    private let reader = ReaderExecutor()

    init(writer: SocketWriter, logger: Logger) {
        self.writer = writer
        self.logger = logger
    }

    func waitForever() async -> Never {
        while true { try? await Task.sleep(for: .seconds(3600)) }
    }

    /// Reads frames until the parent closes the connection, then exits the process: a
    /// runner never outlives its parent's interest in it. After each read's frames it runs
    /// the ``InlineJob`` calls they brought.
    func readLoop(fd: Int32) {
        reader.attachToCurrentThread()
        _ = flame_set_thread_name("flame-reader")
        var decoder = FrameDecoder()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { terminateProcess(0) }  // parent gone
            buffer.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            do {
                try reader.acceptingJobs {
                    while let frame = try decoder.nextFrame() {
                        handle(try ParentMessage(frame: frame))
                    }
                }
            } catch {
                logger.error("malformed frame from parent; exiting", metadata: ["error": "\(error)"])
                terminateProcess(65)
            }
            reader.runPending()
        }
    }

    private func handle(_ message: ParentMessage) {
        switch message {
        case .welcome(let interval):
            guard !state.withLock({ $0.welcomed }) else { return }
            state.withLock { $0.welcomed = true }
            startHeartbeat(every: .milliseconds(Int64(interval)))
        case .run(let request):
            run(request)
        case .cancel(let id):
            let task = state.withLock { state -> Task<Void, Never>? in
                guard state.calls[id] != nil else { return nil }
                if let task = state.calls[id]?.task { return task }
                state.calls[id]?.cancelRequested = true
                return nil
            }
            task?.cancel()
        case .startChild(let request):
            startChild(request)
        case .stopChild(let id):
            state.withLock { $0.children[id] }?.cancel()
        case .shutdown:
            let children = state.withLock { state in
                state.shuttingDown = true
                return Array(state.children.values)
            }
            for child in children { child.cancel() }
            exitIfFinished()
        }
    }

    private func run(_ request: RunRequest) {
        let accepted = state.withLock { state -> Bool in
            guard !state.shuttingDown else { return false }
            state.calls[request.id] = CallEntry()
            return true
        }
        guard accepted else {
            send(.result(callID: request.id, .failure(WireFailure(kind: .shuttingDown, message: "runner is shutting down"))))
            return
        }
        // Created outside the lock: the reader thread must not hold it while the task
        // machinery runs, or every finishing job contends with the next request. An
        // InlineJob's task prefers the reader, which runs it once this read is handled.
        let body: @Sendable () async -> Void = {
            let outcome = await JobCodec.run(request)
            self.send(.result(callID: request.id, outcome))
            self.finishCall(request.id)
        }
        let task = JobCodec.isInline(request) ? Task(executorPreference: reader, operation: body) : Task(operation: body)
        let cancelNow = state.withLock { state -> Bool in
            guard state.calls[request.id] != nil else { return false }  // already finished
            state.calls[request.id]?.task = task
            return state.calls[request.id]?.cancelRequested ?? false
        }
        if cancelNow { task.cancel() }
    }

    private func finishCall(_ id: UInt64) {
        let done = state.withLock { state -> Bool in
            state.calls[id] = nil
            return state.shuttingDown && state.calls.isEmpty && state.children.isEmpty
        }
        if done { terminateProcess(0) }
    }

    private func startChild(_ request: RunRequest) {
        let service: any ChildService
        switch JobCodec.service(for: request) {
        case .success(let decoded): service = decoded
        case .failure(let failure):
            send(.result(callID: request.id, .failure(failure)))
            return
        }
        let accepted = state.withLock { state -> Bool in
            guard !state.shuttingDown else { return false }
            state.children[request.id] = Task {
                // The start is acknowledged from inside the task so that it always precedes
                // the exit report.
                self.send(.result(callID: request.id, .success([])))
                let outcome: CallOutcome
                do {
                    try await service.run()
                    outcome = .success([])
                } catch {
                    outcome = .failure(JobCodec.failure(for: error))
                }
                self.state.withLock { _ = $0.children.removeValue(forKey: request.id) }
                self.send(.childExited(childID: request.id, outcome))
                self.exitIfFinished()
            }
            return true
        }
        if !accepted {
            send(.result(callID: request.id, .failure(WireFailure(kind: .shuttingDown, message: "runner is shutting down"))))
        }
    }

    private func exitIfFinished() {
        let done = state.withLock { $0.shuttingDown && $0.calls.isEmpty && $0.children.isEmpty }
        if done { terminateProcess(0) }
    }

    private func send(_ message: RunnerMessage) {
        if !writer.send({ message.encodeFrame(into: &$0) }) { terminateProcess(0) }  // parent gone
    }

    private func startHeartbeat(every interval: Duration) {
        Task.detached {
            while true {
                self.send(.heartbeat(cpuNanoseconds: ResourceUsage.cpuNanoseconds(), residentBytes: ResourceUsage.residentBytes()))
                try? await Task.sleep(for: interval)
            }
        }
    }
}
