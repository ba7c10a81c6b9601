public import Logging
import NIOCore
import NIOPosix

/// A TCP listener that runners on other hosts (or local runners in TCP mode) dial back to.
///
/// One listener serves every pool and backend of the parent. A backend registers each
/// runner it launches (id, token, build identity) and gives it ``advertisedAddress`` in
/// `FLAME_PARENT`; the listener admits a connection once its hello proves all three within
/// ``Configuration/helloTimeout``, and refuses and logs everything else (see
/// docs/SECURITY.md). Connections are served on the shared event loops.
public final class RunnerListener: Sendable {
    public struct Configuration: Sendable {
        /// The address to bind. Defaults to loopback.
        public var host: String
        /// The port to bind; 0 (the default) picks a free one.
        public var port: Int
        /// The host runners dial, when it is not the bind address (a container's or a
        /// cluster node's bind address is often not the one others reach; `0.0.0.0` never is).
        public var advertisedHost: String?
        /// How long an accepted connection may take to send a valid hello.
        public var helloTimeout: Duration
        /// At most this many accepted connections may be waiting to say hello; more are
        /// closed at once (and logged), so a flood cannot take the descriptors boots need.
        public var maximumPendingHellos: Int

        public init(
            host: String = "127.0.0.1", port: Int = 0, advertisedHost: String? = nil, helloTimeout: Duration = .seconds(5),
            maximumPendingHellos: Int = 256
        ) {
            self.host = host
            self.port = port
            self.advertisedHost = advertisedHost
            self.helloTimeout = helloTimeout
            self.maximumPendingHellos = maximumPendingHellos
        }
    }

    public let configuration: Configuration
    /// `host:port` the listener is bound to.
    public let boundAddress: String
    /// `host:port` runners are told to dial.
    public let advertisedAddress: String
    let admissions: RunnerAdmissions
    /// Accepted connections yet to say hello.
    let pendingHellos: PendingHellos
    private let channel: any Channel

    private init(configuration: Configuration, admissions: RunnerAdmissions, pendingHellos: PendingHellos, channel: any Channel, port: Int) {
        self.configuration = configuration
        self.admissions = admissions
        self.pendingHellos = pendingHellos
        self.channel = channel
        self.boundAddress = "\(configuration.host):\(port)"
        // A wildcard bind is no address to dial: then this host's name, unless told otherwise.
        let wildcard = ["0.0.0.0", "::", "[::]"].contains(configuration.host)
        self.advertisedAddress = "\(configuration.advertisedHost ?? (wildcard ? ParentDialer.hostName() : configuration.host)):\(port)"
    }

    /// Binds the listener; throws ``FLAMEError/Code/bootFailed`` when the address cannot be bound.
    /// Raises the process's soft descriptor limit to its hard limit (``DescriptorLimit``):
    /// every runner connection is a descriptor.
    public static func start(_ configuration: Configuration = Configuration(), logger: Logger = Logger(label: "flame.listener")) async throws -> RunnerListener {
        let descriptors = DescriptorLimit.raiseToHardLimit()
        logger.debug("runner listener starting", metadata: ["descriptorLimit": "\(descriptors)"])
        let admissions = RunnerAdmissions()
        let helloTimeout = configuration.helloTimeout
        let pending = PendingHellos(limit: configuration.maximumPendingHellos)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: RunnerTransport.group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                // A runner host that vanishes (power, network) leaves no FIN: keepalive finds it.
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .childChannelInitializer { channel in
                    RunnerTransport.configure(
                        channel, admissions: admissions, owner: nil, helloTimeout: helloTimeout, pending: pending, logger: logger)
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw FLAMEError(.bootFailed, "cannot listen for runners on \(configuration.host):\(configuration.port): \(error)")
        }
        return RunnerListener(
            configuration: configuration, admissions: admissions, pendingHellos: pending, channel: channel,
            port: channel.localAddress?.port ?? configuration.port)
    }

    /// Stops accepting connections; runners already connected stay.
    public func close() async {
        try? await channel.close()
    }
}
