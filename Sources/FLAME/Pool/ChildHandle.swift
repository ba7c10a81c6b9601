import FLAMEWire

/// How a child service ended.
public enum ChildExit: Sendable {
    /// `run()` returned, or the service was stopped.
    case finished
    /// `run()` threw (the error as the caller would see it), or the runner went away.
    case failed(any Error & Sendable)
}

/// A long-lived service running on one runner of a pool.
///
/// The runner counts as busy while the service runs and is not shut down for idleness.
/// ``call(_:timeout:)`` runs further jobs on the same runner (they can reach the service's
/// state there, through ``Resources`` or statics).
public struct ChildHandle: Sendable {
    /// The runner the service runs on.
    public let runnerID: String
    let id: UInt64
    let pool: Pool

    /// Stops the service (its task is cancelled) and waits until it has ended.
    @discardableResult
    public func stop() async -> ChildExit {
        await pool.stopChild(id)
        return await waitUntilEnded()
    }

    /// Waits until the service ends, for whatever reason.
    public func waitUntilEnded() async -> ChildExit {
        await pool.waitForChild(id)
    }

    /// Runs `job` on the service's runner. Fails with ``FLAMEError/Code/childExited`` once
    /// that runner is gone.
    public func call<J: Job>(_ job: J, timeout: Duration? = nil) async throws -> J.Output {
        let request = try JobCodec.encode(job)
        let outcome = try await pool.run(type: request.type, payload: request.payload, timeout: timeout, pinnedTo: runnerID)
        return try JobCodec.decode(outcome, as: J.Output.self)
    }
}

/// The pool's record of a placed child service.
struct ChildRecord {
    let runnerID: String
    var exit: ChildExit?
    var waiters: [CheckedContinuation<ChildExit, Never>] = []
}

extension Pool {
    /// Starts `service` on a runner (placed like a call, occupying one of its
    /// `maxConcurrency` slots while it runs) and returns its handle once it has started.
    public nonisolated func placeChild<S: ChildService>(_ service: S, timeout: Duration? = nil) async throws -> ChildHandle {
        let request = try JobCodec.encodeService(service)
        let deadline = ContinuousClock.now.advanced(by: timeout ?? configuration.timeout)
        let placement = try await checkout(deadline: deadline, isChild: true, pinnedTo: nil)
        let outcome = try await exchange(
            placement, .startChild(RunRequest(id: placement.callID, jobType: request.type, payload: request.payload)))
        if case .failure(let failure) = outcome {
            await callFinished(placement.callID, succeeded: false)
            throw JobCodec.error(for: failure)
        }
        await childStarted(placement.callID, runner: placement.runnerID)
        return ChildHandle(runnerID: placement.runnerID, id: placement.callID, pool: self)
    }

    private func childStarted(_ id: UInt64, runner: String) {
        machine.childStarted(id)
        if children[id] == nil { children[id] = ChildRecord(runnerID: runner) }
    }

    func stopChild(_ id: UInt64) {
        guard let record = children[id], record.exit == nil else { return }
        links[record.runnerID]?.send(.stopChild(childID: id))
    }

    func waitForChild(_ id: UInt64) async -> ChildExit {
        if let exit = children[id]?.exit { return exit }
        guard children[id] != nil else { return .finished }
        return await withCheckedContinuation { children[id]?.waiters.append($0) }
    }

    func childEnded(_ id: UInt64, outcome: CallOutcome) {
        let exit: ChildExit =
            switch outcome {
            case .success: .finished
            case .failure(let failure) where failure.kind == .cancelled: .finished
            case .failure(let failure): .failed(JobCodec.error(for: failure))
            }
        end(child: id, runner: children[id]?.runnerID ?? "", exit: exit)
    }

    func childrenLost(runner: String, reason: FLAMEError) {
        for (id, record) in children where record.runnerID == runner && record.exit == nil {
            end(child: id, runner: runner, exit: .failed(FLAMEError(.childExited, reason.message)))
        }
    }

    private func end(child id: UInt64, runner: String, exit: ChildExit) {
        var record = children[id] ?? ChildRecord(runnerID: runner)
        guard record.exit == nil else { return }
        record.exit = exit
        for waiter in record.waiters { waiter.resume(returning: exit) }
        record.waiters = []
        children[id] = record
    }
}
