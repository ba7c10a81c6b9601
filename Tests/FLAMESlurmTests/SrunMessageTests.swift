@testable import FLAMESlurm
import FLAME
import Testing

/// What srun says, read as the launcher reads it: the lines are those srun 22.05 printed
/// against the test cluster (scripts/slurm-up.sh).
@Suite(.timeLimit(.minutes(1))) struct SrunMessageTests {
    @Test func srunsLinesAreReadForTheJob() {
        #expect(SrunMessage(line: "srun: job 4 queued and waiting for resources") == .queued(job: "4"))
        #expect(SrunMessage(line: "srun: job 4 has been allocated resources") == .allocated(job: "4"))
        #expect(SrunMessage(line: "srun: error: n1: task 0: Exited with exit code 3") == .taskEnded(node: "n1", how: "Exited with exit code 3"))
        #expect(SrunMessage(line: "srun: error: n2: task 0: Killed") == .taskEnded(node: "n2", how: "Killed"))
        #expect(
            SrunMessage(line: "srun: error: Unable to allocate resources: Invalid partition name specified")
                == .error("Unable to allocate resources: Invalid partition name specified"))
        #expect(
            SrunMessage(line: "slurmstepd-n1: error: *** STEP 9.0 ON n1 CANCELLED AT 2026-12-02T02:40:54 ***")
                == .error("*** STEP 9.0 ON n1 CANCELLED AT 2026-12-02T02:40:54 ***"))
        #expect(SrunMessage(line: "srun: Job allocation 8 has been revoked") == .notice("Job allocation 8 has been revoked"))
        // The runner's own output is not Slurm's.
        #expect(SrunMessage(line: "srun is a word in my log") == nil)
        #expect(SrunMessage(line: "2026-12-02T02:38:22+0000 error flame.runner: srun: job 9 queued") == nil)
    }

    @Test func theEndOfAJobIsDescribedWithSlurmsReason() {
        var refused = SrunReport()
        refused.record(.error("invalid partition specified: nope"))
        refused.record(.error("Unable to allocate resources: Invalid partition name specified"))
        #expect(
            refused.describeEnd(srun: "exited with status 1")
                == "was refused by Slurm: Unable to allocate resources: Invalid partition name specified (srun exited with status 1)")

        var killed = SrunReport()
        killed.job = "42"
        killed.node = "n1"
        killed.record(.taskEnded(node: "n1", how: "Killed"))
        #expect(killed.describeEnd(srun: "exited with status 137") == "was killed by signal 9 (SIGKILL) (job 42 on n1; task: Killed)")

        var failed = SrunReport()
        failed.record(.error("execve(): /nowhere/flame: No such file or directory"))
        failed.record(.taskEnded(node: "n2", how: "Exited with exit code 2"))
        #expect(
            failed.describeEnd(srun: "exited with status 2")
                == "exited with status 2 (task: Exited with exit code 2; Slurm: execve(): /nowhere/flame: No such file or directory)")

        var revoked = SrunReport()
        revoked.record(.queued(job: "8"))
        revoked.record(.notice("Job allocation 8 has been revoked"))
        #expect(revoked.describeEnd(srun: "exited with status 1") == "exited with status 1 (job 8)")
    }

    @Test func squeueLinesGiveEachJobsStateAndReason() {
        let states = SlurmQueue.parse(["12|PENDING|Resources", "13|RUNNING|None", "garbage", "|PENDING|x", "14|PENDING|"])
        #expect(states == ["12": "pending (Resources)", "13": "running", "14": "pending"])
    }

    @Test func optionsBecomeSrunArguments() {
        let launcher = SlurmLauncher(
            options: SlurmOptions(
                partition: "gpu", timeLimit: .seconds(90_061), cpusPerRunner: 2, memoryPerRunnerMegabytes: 512,
                jobNamePrefix: "app-", extraArguments: ["--qos=low"], executable: "/opt/app/bin/app", arguments: ["serve"]))
        let spec = RunnerSpec(runnerID: "thumbnails-3", poolName: "thumbnails", heartbeatInterval: .seconds(1), shutdownTimeout: .seconds(5))
        #expect(
            launcher.srunArguments(for: spec) == [
                "--job-name=app-thumbnails-3", "--nodes=1", "--ntasks=1", "--cpus-per-task=2", "--input=none", "--export=ALL",
                "--partition=gpu", "--time=1-01:01:01", "--mem=512", "--qos=low", "/opt/app/bin/app", "serve",
            ])
        #expect(Duration.milliseconds(1500).slurmTimeLimit == "0-00:00:02")
        // srun runs under setpriv (when the host has it), which makes the kernel send it
        // SIGTERM when the parent dies.
        let (program, arguments) = launcher.command(for: spec)
        if let setpriv = ProcessEnvironment.onPath("setpriv") {
            #expect(program == setpriv)
            #expect(arguments.prefix(4) == ["--pdeathsig", "TERM", "--", launcher.options.commands.srun])
        } else {
            #expect(program == launcher.options.commands.srun)
        }
    }
}

/// Without Slurm's client tools a boot fails saying so (no cluster needed).
@Suite(.timeLimit(.minutes(1))) struct SlurmLauncherTests {
    @Test func aMissingSrunFailsTheBootSayingWhatToInstall() async throws {
        let launcher = SlurmLauncher(options: SlurmOptions(commands: SlurmCommands(srun: "/nonexistent/srun")))
        let spec = RunnerSpec(runnerID: "p-1", poolName: "p", heartbeatInterval: .seconds(1), shutdownTimeout: .seconds(1))
        let request = LaunchRequest(spec: spec, environment: [:], output: { _, _ in }) { _ in }
        do {
            _ = try await launcher.launch(request)
            Issue.record("the launch succeeded")
        } catch let error as FLAMEError {
            #expect(error.code == .bootFailed && error.message.contains("no srun at /nonexistent/srun"), "\(error)")
        }
    }
}

extension SlurmLauncherTests {
    @Test func insideASlurmJobSrunInheritsNoneOfTheJobsVariables() {
        let inside = SlurmLauncher.srunInherits(insideJob: true)
        #expect(!inside("SLURM_JOB_ID") && !inside("SLURM_JOBID") && !inside("SLURM_NODELIST") && !inside("SLURM_MEM_PER_NODE"))
        #expect(inside("SLURM_CONF") && inside("PATH") && inside("HOME"))
        let outside = SlurmLauncher.srunInherits(insideJob: false)
        #expect(outside("SLURM_ACCOUNT") && outside("PATH"))
    }
}
