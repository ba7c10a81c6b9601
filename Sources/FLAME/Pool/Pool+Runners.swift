// Booting runners and hearing from them: what the Pool actor does between a `bootRunner`
// action and the runner's exit.
extension Pool {
    /// Starts booting `id`: its monitor first, then the backend in a task.
    func bootRunner(_ id: String) {
        let monitor = RunnerMonitor(
            runnerID: id, calls: calls, outputCapacity: configuration.outputLinesPerRunner
        ) { [weak self] notice in
            guard let self else { return }
            Task { await self.handle(notice, from: id) }
        }
        monitors[id] = monitor
        let spec = RunnerSpec(
            runnerID: id, poolName: name, heartbeatInterval: configuration.heartbeatInterval,
            shutdownTimeout: configuration.shutdownTimeout)
        let backend = self.backend
        boots[id] = Task {
            let started = ContinuousClock.now
            do {
                let link = try await backend.boot(spec, events: monitor)
                self.runnerBooted(id, link: link, after: .now - started)
            } catch {
                self.runnerBootFailed(id, error: error)
            }
        }
    }

    private func runnerBooted(_ id: String, link: any RunnerLink, after bootTime: Duration) {
        if let exit = exitsDuringBoot.removeValue(forKey: id) {
            // The process exited after its hello, before the boot handed over its link: it
            // never served, so it is a failed boot (retried as one), not a ready runner.
            link.kill()
            runnerBootFailed(id, error: FLAMEError(.bootFailed, "runner \(id) exited during boot: \(exit.message)"))
            return
        }
        boots[id] = nil
        abortedBoots[id] = nil
        telemetry.booted(after: bootTime)
        guard let actions = machine.runnerBooted(id, now: .now) else {
            link.kill()  // its boot was aborted meanwhile
            return
        }
        links[id] = link
        logger.debug("runner booted", metadata: ["runner": "\(id)", "pid": "\(link.pid.map(String.init) ?? "-")"])
        publish(.runnerBooted, runner: id, "runner \(id) booted (pid \(link.pid.map(String.init) ?? "-"))")
        startupEnded(id, error: nil)
        perform(actions)
    }

    private func runnerBootFailed(_ id: String, error: any Error) {
        boots[id] = nil
        exitsDuringBoot[id] = nil
        let failure = abortedBoots.removeValue(forKey: id) ?? error as? FLAMEError ?? FLAMEError(.bootFailed, "runner \(id) failed to boot: \(error)")
        logger.warning("runner boot failed", metadata: ["runner": "\(id)", "error": "\(failure)"])
        telemetry.bootFailed()
        publish(.bootFailed, runner: id, failure.message)
        retire(id, exit: failure)
        startupEnded(id, error: failure)
        perform(machine.runnerBootFailed(id, error: failure, now: .now))
    }

    private func startupEnded(_ id: String, error: FLAMEError?) {
        guard var current = startup, current.pending.remove(id) != nil else { return }
        startup = current
        if let error {
            startup?.continuation?.resume(throwing: error)
            startup?.continuation = nil
            startup?.pending = []
        } else if current.pending.isEmpty {
            startup?.continuation?.resume()
            startup?.continuation = nil
        }
    }

    private func handle(_ notice: RunnerMonitor.Notice, from id: String) {
        accountForFinishedCalls()
        switch notice {
        case .orphanedResult(let callID, let succeeded):
            perform(machine.callFinished(callID, succeeded: succeeded, on: id, now: .now))
        case .childExited(let callID, let outcome):
            // A child placed on another runner is not this runner's to end.
            if let record = children[callID], record.runnerID != id { return }
            childEnded(callID, outcome: outcome)
            perform(machine.callFinished(callID, succeeded: outcome.isSuccess, on: id, now: .now))
        case .exited(let reason):
            logger.debug("runner exited", metadata: ["runner": "\(id)", "reason": "\(reason.message)"])
            links[id] = nil
            if boots[id] != nil {
                // The boot task reports it, as a boot failure, when it ends.
                exitsDuringBoot[id] = reason
                return
            }
            publish(.runnerExited, runner: id, reason.message)
            retire(id, exit: reason)
            childrenLost(runner: id, reason: reason)
            perform(machine.runnerExited(id, reason: reason, now: .now))
            // After the actions: failing its calls notes their last error on the runner.
            lastErrors[id] = nil
        case .bootProgress(let status):
            logger.debug("runner boot waits", metadata: ["runner": "\(id)", "status": "\(status)"])
            machine.bootProgressed(id, status: status)
        }
    }

    /// Runner `id` is gone (exited, or its boot failed): its monitor goes, its output stays
    /// readable among the pool's retired runners.
    private func retire(_ id: String, exit: FLAMEError) {
        if let monitor = monitors.removeValue(forKey: id) { retired.add(id, output: monitor.output, exit: exit) }
    }
}
