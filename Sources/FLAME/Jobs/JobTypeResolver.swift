import Synchronization

/// Turns a job type into a name that crosses the process boundary, and back.
///
/// Uses the Swift runtime's mangled type names (`_mangledTypeName` / `_typeByName`), which
/// resolve the same in the parent and in a runner for types in executables and libraries,
/// nested and generic types, in debug and release builds
/// (`nestedAndGenericJobTypesResolveOnTheRunner`, `ReleaseRunnerTests`). Both functions are
/// underscored API, so they are confined to this one type; a registry of explicit names could
/// replace them here without touching callers. Resolutions are cached: the first lookup of a
/// name costs ~50 µs, a cached one a dictionary hit.
enum JobTypeResolver {
    private static let namesByType = Mutex<[ObjectIdentifier: String]>([:])
    private static let typesByName = Mutex<[String: any Any.Type]>([:])

    /// The wire name of `type`, or an error when the type has no process-independent name.
    static func name(of type: any Any.Type) throws(FLAMEError) -> String {
        let key = ObjectIdentifier(type)
        if let cached = namesByType.withLock({ $0[key] }) { return cached }
        guard let name = _mangledTypeName(type) else {
            throw FLAMEError(.invalidJobType, "\(String(reflecting: type)) has no mangled name")
        }
        // Private, fileprivate and function-local types embed a per-process discriminator.
        guard !name.contains("$") else {
            throw FLAMEError(
                .invalidJobType,
                "\(String(reflecting: type)) is private, fileprivate or declared inside a function, "
                    + "so a runner cannot find it; make the job type internal or public")
        }
        namesByType.withLock { $0[key] = name }
        return name
    }

    /// The type named `name` in this process, or nil.
    static func type(named name: String) -> (any Any.Type)? {
        if let cached = typesByName.withLock({ $0[name] }) { return cached }
        guard !name.contains("$"), let type = _typeByName(name) else { return nil }
        typesByName.withLock { $0[name] = type }
        return type
    }
}
