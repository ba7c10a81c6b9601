import Logging
import NIOCore
import NIOPosix

/// The event-loop threads that serve every runner connection of this process — adopted
/// socketpairs, accepted TCP connections and runners' output pipes alike — whatever the
/// number of runners.
///
/// They are swift-nio's process-wide group (one thread per core), shared with whatever else
/// in the app uses it, and started on first use: a runner process, which talks to its parent
/// through one blocking socket, never starts them.
enum RunnerTransport {
    static var group: MultiThreadedEventLoopGroup { .singleton }

    /// Installs the frame codec and the runner handler on a new connection's pipeline.
    static func configure(
        _ channel: any Channel, admissions: RunnerAdmissions, owner: (any RunnerConnectionDelegate)?,
        helloTimeout: Duration?, pending: PendingHellos? = nil, logger: Logger
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameCodec()))
            try channel.pipeline.syncOperations.addHandler(
                RunnerChannelHandler(admissions: admissions, owner: owner, helloTimeout: helloTimeout, pending: pending, logger: logger))
        }
    }

    /// Serves the parent's end of a connected socketpair whose other end goes to the runner
    /// `owner` is booting. The runner's hello is checked against `expectation`.
    static func adopt(
        socket: Int32, expecting expectation: RunnerExpectation, owner: any RunnerConnectionDelegate, logger: Logger
    ) async throws -> any Channel {
        let admissions = RunnerAdmissions()
        try admissions.expect(expectation, delegate: owner)
        return try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                configure(channel, admissions: admissions, owner: owner, helloTimeout: nil, logger: logger)
            }
            .withConnectedSocket(socket)
            .get()
    }
}
