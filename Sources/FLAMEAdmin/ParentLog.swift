public import FLAME
public import Logging

/// One record of the parent's own log, kept for `logs --parent`.
public struct ParentLogRecord: Sendable, Equatable {
    public var level: Logger.Level
    public var label: String
    public var text: String
}

/// The parent's recent log records (the last 2,000), for the admin socket.
public enum ParentLog {
    public static let records = LineRing<ParentLogRecord>(capacity: 2000)
}

/// A swift-log handler that keeps each record in ``ParentLog`` and passes it on.
///
/// Its own `logLevel` (default `.info`) decides what is kept; the inner handler's level
/// still decides what it prints, so the console can stay quieter than the kept log.
///
/// ```swift
/// LoggingSystem.bootstrap { label in
///     ParentLogHandler(label: label, passingTo: StreamLogHandler.standardError(label: label))
/// }
/// ```
public struct ParentLogHandler: LogHandler {
    public var inner: any LogHandler
    public let label: String

    public var logLevel: Logger.Level

    public init(label: String, passingTo inner: any LogHandler, logLevel: Logger.Level = .info) {
        self.label = label
        self.inner = inner
        self.logLevel = Swift.min(logLevel, inner.logLevel)
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = "\(event.message)"
        let metadata = inner.metadata.merging(event.metadata ?? [:]) { $1 }
        if !metadata.isEmpty {
            text += " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        ParentLog.records.append(ParentLogRecord(level: event.level, label: label, text: text))
        if event.level >= inner.logLevel { inner.log(event: event) }
    }
}
