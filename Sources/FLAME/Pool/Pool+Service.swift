public import ServiceLifecycle

/// A pool is a swift-service-lifecycle `Service`: run it in a `ServiceGroup` and a graceful
/// shutdown of the group (SIGTERM, say) shuts the pool down — callers waiting get
/// ``FLAMEError/Code/poolShutDown``, runners finish their calls and exit.
extension Pool: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
