@testable import FLAME
import FLAMETestSupport

/// The pool state machine in a simulated world: callers, boots that succeed, fail or hang,
/// runner processes that finish calls, crash and exit, an operator scaling, draining and
/// killing, and a manual clock. The world performs the machine's actions as the pool actor
/// would and checks the machine's invariants after every step.
///
/// Events name concrete ids, so a sequence replays exactly: a failing one prints itself as
/// `PoolWorld.replay([...])`, ready to paste into a unit test.
struct PoolWorld {
    enum Event: Equatable, CustomStringConvertible {
        case checkout(timeoutMilliseconds: Int, child: Bool)
        case cancelWaiter(UInt64)
        case abandonCall(UInt64)
        case finishCall(UInt64, succeeded: Bool)
        /// A runner reports a result for a call placed on another runner.
        case strayResult(UInt64, from: String)
        /// A call's caller records its answer and the pool accounts for it in a batch (the
        /// actor's path: no runner named).
        case callAnswered(UInt64)
        /// A child service placed by a call started on its runner.
        case childStarted(UInt64)
        /// A call pinned to one runner (a child service's handle calling it).
        case pinnedCall(String)
        /// The backend says what a boot waits for.
        case bootProgress(String)
        case bootSucceeds(String)
        case bootFails(String)
        /// A process exits on its own (crash, OOM), or after a stop or kill.
        case exit(String)
        case idleCheck(String, call: UInt64, idle: Bool)
        case advance(milliseconds: Int)
        case scale(min: Int, max: Int)
        case drain(String)
        case drainAll
        case kill(String)
        case shutdown

        var description: String {
            switch self {
            case .checkout(let timeout, let child): ".checkout(timeoutMilliseconds: \(timeout), child: \(child))"
            case .cancelWaiter(let id): ".cancelWaiter(\(id))"
            case .abandonCall(let id): ".abandonCall(\(id))"
            case .finishCall(let id, let succeeded): ".finishCall(\(id), succeeded: \(succeeded))"
            case .strayResult(let id, let runner): ".strayResult(\(id), from: \"\(runner)\")"
            case .callAnswered(let id): ".callAnswered(\(id))"
            case .childStarted(let id): ".childStarted(\(id))"
            case .pinnedCall(let runner): ".pinnedCall(\"\(runner)\")"
            case .bootProgress(let id): ".bootProgress(\"\(id)\")"
            case .bootSucceeds(let id): ".bootSucceeds(\"\(id)\")"
            case .bootFails(let id): ".bootFails(\"\(id)\")"
            case .exit(let id): ".exit(\"\(id)\")"
            case .idleCheck(let id, let call, let idle): ".idleCheck(\"\(id)\", call: \(call), idle: \(idle))"
            case .advance(let milliseconds): ".advance(milliseconds: \(milliseconds))"
            case .scale(let min, let max): ".scale(min: \(min), max: \(max))"
            case .drain(let id): ".drain(\"\(id)\")"
            case .drainAll: ".drainAll"
            case .kill(let id): ".kill(\"\(id)\")"
            case .shutdown: ".shutdown"
            }
        }
    }

    struct Violation: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private(set) var machine: Machine
    private(set) var now = TestInstant.zero
    /// Boots asked for and not yet reported, and those the machine aborted (reported later).
    private(set) var booting: Set<String> = []
    private(set) var aborted: Set<String> = []
    /// Booted runner processes still alive, and those told to stop or killed.
    private(set) var processes: Set<String> = []
    private(set) var ending: Set<String> = []
    /// Waiters by id: their deadline, and how many answers each got.
    private(set) var waiters: [UInt64: (deadline: TestInstant, answers: Int, child: Bool)] = [:]
    /// Placed calls the world's runners are running: their runner and whether the caller
    /// was answered already (a failure from the pool, before the runner finished).
    /// (A started child service has no deadline.)
    private(set) var calls: [UInt64: (runner: String, deadline: TestInstant?, answered: Bool, child: Bool)] = [:]
    private(set) var idleChecks: [(runner: String, call: UInt64)] = []
    private(set) var log: [Event] = []
    /// How often the machine said `shutdownCompleted` (once, at the end, is right).
    private(set) var shutdownCompletions = 0

    /// A pool's configuration for the world, as a failing run prints it.
    struct Shape: CustomStringConvertible, Sendable {
        var min = 0, max = 3, maxConcurrency = 2
        var singleUse = false, idleCheck = false
        var description: String {
            "min: \(min), max: \(max), maxConcurrency: \(maxConcurrency), singleUse: \(singleUse), idleCheck: \(idleCheck)"
        }
    }

    init(_ shape: Shape) throws {
        try self.init(min: shape.min, max: shape.max, maxConcurrency: shape.maxConcurrency, singleUse: shape.singleUse, idleCheck: shape.idleCheck)
    }

    init(min: Int = 0, max: Int = 3, maxConcurrency: Int = 2, singleUse: Bool = false, idleCheck: Bool = false) throws {
        var configuration = PoolConfiguration(
            name: "p", min: min, max: max, maxConcurrency: maxConcurrency, singleUse: singleUse, timeout: .seconds(10),
            bootTimeout: .seconds(5), shutdownTimeout: .seconds(3), idleShutdownAfter: .seconds(4))
        if idleCheck { configuration.idleShutdownCheck = AlwaysIdle() }
        machine = Machine(limits: .init(configuration))
        try perform(machine.start(now: now))
    }

    /// Applies one event (skipped when it no longer applies), then checks the invariants.
    mutating func apply(_ event: Event) throws {
        log.append(event)
        switch event {
        case .checkout(let timeout, let child):
            let (waiter, actions) = machine.checkoutRequested(deadline: now.advanced(by: .milliseconds(timeout)), isChild: child, now: now)
            waiters[waiter] = (now.advanced(by: .milliseconds(timeout)), 0, child)
            try perform(actions)
        case .cancelWaiter(let id):
            if machine.waiterCancelled(id) { try answer(id) }
        case .abandonCall(let id):
            // The caller gave up: the pool actor answered it (CancellationError) already.
            calls[id]?.answered = true
            try perform(machine.callAbandoned(id, now: now))
        case .finishCall(let id, let succeeded):
            guard let call = calls.removeValue(forKey: id), processes.contains(call.runner) else { return }
            try perform(machine.callFinished(id, succeeded: succeeded, on: call.runner, now: now))
        case .callAnswered(let id):
            guard let call = calls.removeValue(forKey: id), processes.contains(call.runner) else { return }
            try perform(machine.callFinished(id, succeeded: true, now: now))
        case .childStarted(let id):
            guard let call = calls[id], call.child, !call.answered else { return }
            machine.childStarted(id)
            calls[id]?.deadline = nil
        case .pinnedCall(let runner):
            let deadline = now.advanced(by: .seconds(5))
            guard let id = try? machine.checkoutPinned(runner: runner, deadline: deadline, now: now) else { return }
            if !processes.contains(runner) { throw Violation(message: "call \(id) pinned to \(runner), which has no process") }
            calls[id] = (runner, deadline, false, false)
        case .bootProgress(let id):
            machine.bootProgressed(id, status: "simulated: pending")
        case .strayResult(let id, let runner):
            guard let call = calls[id], call.runner != runner, processes.contains(runner) else { return }
            let placed = machine.calls[id] != nil
            let actions = machine.callFinished(id, succeeded: true, on: runner, now: now)
            if !actions.isEmpty || placed != (machine.calls[id] != nil) {
                throw Violation(message: "runner \(runner)'s result for call \(id), placed on \(call.runner), was taken: \(actions)")
            }
        case .bootSucceeds(let id) where aborted.contains(id):
            // The hello of a boot the pool aborted: not expected; the pool kills the process.
            aborted.remove(id)
            if let actions = machine.runnerBooted(id, now: now) {
                throw Violation(message: "the hello of aborted boot \(id) was taken: \(actions)")
            }
            processes.insert(id)
            ending.insert(id)
        case .bootSucceeds(let id):
            guard booting.remove(id) != nil else { return }
            processes.insert(id)
            if let actions = machine.runnerBooted(id, now: now) {
                try perform(actions)
            } else {
                ending.insert(id)  // not expected any more: the pool kills it
            }
        case .bootFails(let id):
            guard booting.remove(id) != nil || aborted.remove(id) != nil else { return }
            try perform(machine.runnerBootFailed(id, error: FLAMEError(.bootFailed, "simulated"), now: now))
        case .exit(let id):
            guard processes.remove(id) != nil else { return }
            ending.remove(id)
            for (callID, call) in calls where call.runner == id { calls[callID] = nil }
            idleChecks.removeAll { $0.runner == id }
            try perform(machine.runnerExited(id, reason: FLAMEError(.runnerExited, "simulated exit"), now: now))
            if machine.runners[id] != nil { throw Violation(message: "runner \(id) is still listed after its exit was reported") }
        case .idleCheck(let id, let call, let idle):
            guard let index = idleChecks.firstIndex(where: { $0 == (id, call) }) else { return }
            idleChecks.remove(at: index)
            try perform(machine.idleCheckFinished(id, call: call, idle: idle, now: now))
        case .advance(let milliseconds):
            now = now.advanced(by: .milliseconds(milliseconds))
            let ready = Set(machine.runners.values.filter { $0.phase == .ready }.map(\.id))
            let actions = machine.tick(now: now)
            try perform(actions)
            // Idle shutdown (a ready runner stopped by time alone) never goes below min;
            // boots that time out may.
            let idledOut = actions.stops.filter { ready.contains($0) }
            if machine.lifecycle == .running, !idledOut.isEmpty, countedRunners < machine.limits.min {
                throw Violation(message: "idle shutdown of \(idledOut) took the pool to \(countedRunners) runners, below min \(machine.limits.min)")
            }
            // Every caller is answered by its deadline: a tick at or past it answers it.
            for (id, waiter) in waiters where waiter.answers == 0 && waiter.deadline <= now && machine.waiters.live.contains(id) {
                throw Violation(message: "waiter \(id) still waits at \(now.offset), past its deadline \(waiter.deadline.offset)")
            }
            for (id, call) in calls where !call.answered {
                guard let deadline = call.deadline, deadline <= now else { continue }
                throw Violation(message: "call \(id) on \(call.runner) is unanswered at \(now.offset), past its deadline \(deadline.offset)")
            }
        case .scale(let min, let max):
            try perform((try? machine.scaleRequested(min: min, max: max, now: now)) ?? [])
        case .drain(let id):
            try perform(machine.drainRequested(runner: id, now: now) ?? [])
        case .drainAll:
            try perform(machine.drainAllRequested(now: now))
        case .kill(let id):
            try perform(machine.killRequested(runner: id, reason: "simulated", now: now) ?? [])
        case .shutdown:
            try perform(machine.shutdownRequested(now: now))
        }
        try checkInvariants()
    }

    /// Booting and ready runners: those counted toward `max`.
    var countedRunners: Int { machine.runners.values.filter { $0.phase == .ready || $0.isBooting }.count }

    private mutating func answer(_ waiter: UInt64) throws {
        guard var entry = waiters[waiter] else { throw Violation(message: "waiter \(waiter) answered but never created") }
        entry.answers += 1
        waiters[waiter] = entry
        if entry.answers > 1 { throw Violation(message: "waiter \(waiter) was answered \(entry.answers) times") }
    }

    /// Does what the pool actor does with each action.
    private mutating func perform(_ actions: [Action]) throws {
        for action in actions {
            switch action {
            case .bootRunner(let id):
                if machine.lifecycle != .running { throw Violation(message: "boot of \(id) requested while the pool shuts down") }
                booting.insert(id)
            case .abortBoot(let id, _):
                if booting.remove(id) != nil { aborted.insert(id) }
            case .placeWaiter(let waiter, let call, let runner):
                try answer(waiter)
                if let deadline = waiters[waiter]?.deadline, now > deadline {
                    throw Violation(message: "waiter \(waiter) placed at \(now.offset), after its deadline \(deadline.offset)")
                }
                if !processes.contains(runner) { throw Violation(message: "waiter \(waiter) placed on \(runner), which has no running process") }
                calls[call] = (runner, waiters[waiter]!.deadline, false, waiters[waiter]!.child)
            case .failWaiter(let waiter, _):
                try answer(waiter)
            case .failCall(let call, _, _):
                // An idle check's failure has no caller; a call's runner may still run it.
                if idleChecks.contains(where: { $0.call == call }) { idleChecks.removeAll { $0.call == call }; continue }
                if let entry = calls[call] {
                    if entry.answered { throw Violation(message: "call \(call) failed twice") }
                    calls[call]?.answered = true
                }
            case .cancelCall:
                break
            case .stopRunner(let id), .killRunner(let id, _):
                if !processes.contains(id) {
                    throw Violation(message: "\(action) for \(id), which has no process (booting: \(booting.contains(id)))")
                }
                ending.insert(id)
            case .runIdleCheck(let id, let call):
                idleChecks.append((id, call))
            case .growStarted, .growEnded, .shrank:
                break
            case .shutdownCompleted:
                if !machine.isDrained { throw Violation(message: "shutdown completed with runners \(machine.runners.ids.sorted()) left") }
                shutdownCompletions += 1
            }
        }
    }

    private func checkInvariants() throws {
        if countedRunners > machine.limits.max {
            throw Violation(message: "\(countedRunners) booting or ready runners exceed max \(machine.limits.max)")
        }
        let live = machine.waiters.live
        guard machine.lifecycle == .running, !live.isEmpty else { return }
        let room = machine.runners.values.contains { $0.phase == .ready && $0.inFlight < machine.limits.maxConcurrency }
        if room { throw Violation(message: "waiters \(live.sorted()) wait while a ready runner has room") }
        let canBoot = countedRunners < machine.limits.max && machine.bootRetryAt == nil
        if canBoot, machine.pendingBoots == 0 { throw Violation(message: "waiters \(live.sorted()) wait, nothing boots, and the pool has room") }
    }

    /// Ends the run: shutdown, then every boot reported, every call finished, every process
    /// exited, time past every deadline. The machine must then be drained and every caller
    /// answered exactly once.
    mutating func finish() throws {
        try apply(.shutdown)
        for _ in 0..<100 {
            if let id = booting.sorted().first { try apply(.bootSucceeds(id)); continue }
            if let id = aborted.sorted().first { try apply(.bootFails(id)); continue }
            if let call = calls.keys.sorted().first { try apply(.finishCall(call, succeeded: true)); continue }
            if let check = idleChecks.first { try apply(.idleCheck(check.runner, call: check.call, idle: true)); continue }
            if let id = ending.sorted().first { try apply(.exit(id)); continue }
            try apply(.advance(milliseconds: 4_000))
            if machine.isDrained, ending.isEmpty, booting.isEmpty, aborted.isEmpty { break }
        }
        if !machine.isDrained { throw Violation(message: "shutdown never completed: runners \(machine.runners.ids.sorted()) left") }
        if shutdownCompletions != 1 { throw Violation(message: "shutdownCompleted was said \(shutdownCompletions) times") }
        for (id, entry) in waiters where entry.answers != 1 && !machine.waiters.live.contains(id) {
            throw Violation(message: "waiter \(id) was answered \(entry.answers) times")
        }
        if !machine.waiters.live.isEmpty { throw Violation(message: "waiters \(machine.waiters.live.sorted()) were never answered") }
    }

    /// Replays `events` on a fresh world (as printed by a failing run) and finishes it.
    static func replay(_ events: [Event], min: Int = 0, max: Int = 3, maxConcurrency: Int = 2, singleUse: Bool = false, idleCheck: Bool = false) throws {
        var world = try PoolWorld(min: min, max: max, maxConcurrency: maxConcurrency, singleUse: singleUse, idleCheck: idleCheck)
        for event in events { try world.apply(event) }
        try world.finish()
    }

    /// A random event that applies now.
    func randomEvent(using random: inout TestRandom) -> Event {
        var choices: [Event] = [.checkout(timeoutMilliseconds: Int.random(in: 500...12_000, using: &random), child: Int.random(in: 0..<10, using: &random) == 0)]
        choices.append(.advance(milliseconds: [10, 200, 1_000, 3_000, 6_000].randomElement(using: &random)!))
        if let id = booting.randomElement(using: &random) { choices += [.bootSucceeds(id), .bootSucceeds(id), .bootFails(id)] }
        if let id = aborted.randomElement(using: &random) { choices += [.bootFails(id), .bootSucceeds(id), .bootProgress(id)] }
        if let id = booting.randomElement(using: &random) { choices.append(.bootProgress(id)) }
        if let id = processes.randomElement(using: &random), Int.random(in: 0..<4, using: &random) == 0 { choices.append(.pinnedCall(id)) }
        if let call = calls.keys.randomElement(using: &random) {
            choices += [.finishCall(call, succeeded: Bool.random(using: &random)), .finishCall(call, succeeded: true), .abandonCall(call)]
            if let other = processes.randomElement(using: &random), other != calls[call]?.runner { choices.append(.strayResult(call, from: other)) }
            choices.append(.callAnswered(call))
            if calls[call]?.child == true { choices.append(.childStarted(call)) }
        }
        if let waiter = machine.waiters.live.randomElement(using: &random) { choices.append(.cancelWaiter(waiter)) }
        if let id = ending.randomElement(using: &random) { choices.append(.exit(id)) }
        if let id = processes.randomElement(using: &random), Int.random(in: 0..<4, using: &random) == 0 { choices.append(.exit(id)) }
        if let check = idleChecks.randomElement(using: &random) { choices.append(.idleCheck(check.runner, call: check.call, idle: Bool.random(using: &random))) }
        if Int.random(in: 0..<8, using: &random) == 0 {
            let max = Int.random(in: 1...4, using: &random)
            choices.append(.scale(min: Int.random(in: 0...max, using: &random), max: max))
        }
        if let id = machine.runners.ids.randomElement(using: &random), Int.random(in: 0..<6, using: &random) == 0 {
            choices += [.drain(id), .kill(id)]
        }
        if Int.random(in: 0..<40, using: &random) == 0 { choices.append(.drainAll) }
        return choices.randomElement(using: &random)!
    }
}

