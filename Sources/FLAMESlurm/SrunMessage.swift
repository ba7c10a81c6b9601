import FLAME

/// A line Slurm itself wrote on a runner's stderr (`srun: …`, `slurmstepd-n1: …`), read for
/// what it says about the runner's job. Anything else is the runner's own output.
///
/// The wording is srun's (Slurm 22.05, Debian 12): measured by running srun against the test
/// cluster of scripts/slurm-up.sh; the unit tests hold the exact lines seen there.
enum SrunMessage: Equatable, Sendable {
    /// `srun: job 42 queued and waiting for resources`: the job pends.
    case queued(job: String)
    /// `srun: job 42 has been allocated resources`: it leaves the queue.
    case allocated(job: String)
    /// `srun: error: n1: task 0: Exited with exit code 3`, `…: Killed`: how the runner ended.
    case taskEnded(node: String, how: String)
    /// `srun: error: Unable to allocate resources: Invalid partition name specified`, or a
    /// `slurmstepd` error: Slurm's reason for a failure, as it said it.
    case error(String)
    /// Any other message of srun's (`srun: Job allocation 42 has been revoked`).
    case notice(String)

    init?(line: String) {
        if line.hasPrefix("slurmstepd") {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            self = .error(Self.trimmed(line[line.index(after: colon)...]).removingPrefix("error: "))
            return
        }
        guard line.hasPrefix("srun: ") else { return nil }
        let text = String(line.dropFirst("srun: ".count))
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        if words.count >= 4, words[0] == "job", words[2] == "queued" {
            self = .queued(job: String(words[1]))
        } else if words.count >= 4, words[0] == "job", words[2] == "has", words[3] == "been", text.hasSuffix("allocated resources") {
            self = .allocated(job: String(words[1]))
        } else if text.hasPrefix("error: ") {
            let error = String(text.dropFirst("error: ".count))
            // "n1: task 0: Exited with exit code 3"
            let parts = error.split(separator: ":", maxSplits: 2).map { Self.trimmed($0) }
            if parts.count == 3, parts[1].hasPrefix("task ") {
                self = .taskEnded(node: parts[0], how: parts[2])
            } else {
                self = .error(error)
            }
        } else {
            self = .notice(text)
        }
    }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

extension String {
    fileprivate func removingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}

/// What srun has said so far about one runner's job: the facts its end is described with.
struct SrunReport: Sendable {
    var job: String?
    var node: String?
    var taskEnd: String?
    /// Slurm's last error: the reason a job failed before its runner ran.
    var lastError: String?

    mutating func record(_ message: SrunMessage) {
        switch message {
        case .queued(let job), .allocated(let job):
            self.job = job
        case .taskEnded(let node, let how):
            self.node = node
            taskEnd = how
        case .error(let text):
            lastError = text
        case .notice:
            break
        }
    }

    /// How the runner ended, from srun's exit (`how`) and what Slurm said: "was refused by
    /// Slurm: Unable to allocate resources: Invalid partition name specified (srun exited
    /// with status 1)", "exited with status 3 (job 42 on n1; task: Exited with exit code 3)".
    func describeEnd(srun how: String) -> String {
        if job == nil, taskEnd == nil, let lastError { return "was refused by Slurm: \(lastError) (srun \(how))" }
        var how = how
        // srun exits 128 + N when its task was killed by signal N: say it as for a local runner.
        if taskEnd != nil, how.hasPrefix("exited with status "), let status = Int32(how.dropFirst("exited with status ".count)),
            status > 128, status < 128 + 65
        {
            how = "was killed by signal \(status - 128) (\(signalName(status - 128)))"
        }
        var facts: [String] = []
        if let job { facts.append("job \(job)" + (node.map { " on \($0)" } ?? "")) }
        if let taskEnd { facts.append("task: \(taskEnd)") }
        if let lastError { facts.append("Slurm: \(lastError)") }
        return facts.isEmpty ? how : "\(how) (\(facts.joined(separator: "; ")))"
    }
}
