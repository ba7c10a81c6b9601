import Synchronization

/// Names a resource of the app that jobs reach on the runner, and its type.
///
/// ```swift
/// enum DatabaseKey: ResourceKey { typealias Value = DatabasePool }
/// ```
public protocol ResourceKey {
    associatedtype Value: Sendable
}

/// The app's own resources (configuration, a database pool, a cache) made reachable by jobs.
///
/// A runner is the same executable as its parent and runs `main` up to
/// ``FLAME/bootstrap(resources:logger:)``; whatever the app sets up before that call exists
/// in the runner too. Hand it to bootstrap and jobs find it in ``current``:
///
/// ```swift
/// let db = try await DatabasePool.connect(config.databaseURL)
/// var resources = Resources()
/// resources[DatabaseKey.self] = db
/// try await FLAME.bootstrap(resources: resources)  // in a runner: serves jobs from here on
///
/// struct Report: Job {
///     func run() async throws -> Int { try await Resources.current.require(DatabaseKey.self).count() }
/// }
/// ```
///
/// In the parent, bootstrap records the same resources, so jobs run by an in-process
/// backend see them as well.
public struct Resources: Sendable {
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    public subscript<Key: ResourceKey>(_ key: Key.Type) -> Key.Value? {
        get { values[ObjectIdentifier(key)] as? Key.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }

    /// The resource for `key`, or an error saying it was not provided to bootstrap.
    public func require<Key: ResourceKey>(_ key: Key.Type) throws -> Key.Value {
        guard let value = self[key] else {
            throw FLAMEError(
                .notARunner, "resource \(Key.self) was not provided; pass it to FLAME.bootstrap(resources:)")
        }
        return value
    }

    private static let installed = Mutex(Resources())

    /// The resources given to ``FLAME/bootstrap(resources:logger:)`` in this process.
    public static var current: Resources { installed.withLock { $0 } }

    static func install(_ resources: Resources) {
        installed.withLock { $0 = resources }
    }
}
