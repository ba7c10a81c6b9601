#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A request or reply with the optional `id` the client chose, echoed on replies.
public struct AdminEnvelope<Body: Codable & Sendable & Equatable>: Sendable, Equatable {
    public var id: Int?
    public var body: Body

    public init(id: Int? = nil, _ body: Body) {
        self.id = id
        self.body = body
    }
}

extension AdminEnvelope: Codable {
    private enum CodingKeys: String, CodingKey { case id }

    public init(from decoder: any Decoder) throws {
        id = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .id)
        body = try Body(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try body.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(id, forKey: .id)
    }
}

/// The admin protocol's one codec: newline-delimited JSON; request lines at most
/// ``maximumLineLength`` bytes (replies are not limited). Used by the server, `flamectl` and `flame-top` alike.
public enum AdminCodec {
    /// Longer request lines are refused with an error reply (and skipped).
    public static let maximumLineLength = 64 * 1024

    /// One line (with its `\n`) for `message`.
    public static func line<Body: Codable & Sendable & Equatable>(_ message: AdminEnvelope<Body>) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = Array(try encoder.encode(message))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    public static func line(_ request: AdminRequest, id: Int? = nil) throws -> [UInt8] {
        try line(AdminEnvelope(id: id, request))
    }

    public static func line(_ reply: AdminReply, id: Int? = nil) throws -> [UInt8] {
        try line(AdminEnvelope(id: id, reply))
    }

    /// `line` (an encoded reply without an id) with `id` added: lets one encoded snapshot
    /// serve every subscriber, whatever id each chose.
    public static func adding(id: Int?, to line: [UInt8]) -> [UInt8] {
        guard let id, line.first == UInt8(ascii: "{") else { return line }
        return Array("{\"id\":\(id),".utf8) + line.dropFirst()
    }

    /// `value` as one line of JSON with sorted keys (no newline): the `--json` outputs.
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes one line (without its `\n`), nested at most 64 levels deep.
    public static func decode<Body: Codable & Sendable & Equatable>(_: Body.Type, from line: some Collection<UInt8>) throws -> AdminEnvelope<Body> {
        try JSONLineDecoder().decode(AdminEnvelope<Body>.self, from: line)
    }

    /// The `id` and `type` of a line that is JSON but does not decode as a message, each
    /// nil when absent or not of its type; both nil when the line is no JSON object. One
    /// parse, for a server answering a bad request and a client routing a bad reply.
    public static func header(ofLine line: some Collection<UInt8>) -> (id: Int?, type: String?) {
        guard let header = try? JSONLineDecoder().decode(Header.self, from: line) else { return (nil, nil) }
        return (header.id, header.type)
    }

    private struct Header: Decodable {
        var id: Int?
        var type: String?

        enum CodingKeys: CodingKey { case id, type }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try? container.decodeIfPresent(Int.self, forKey: .id)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
        }
    }

    /// Whether decoding failed because the line is not JSON at all (rather than JSON that
    /// does not fit the message: a missing field, a wrong type, an unknown `type`).
    public static func isMalformedJSON(_ error: any Error) -> Bool {
        guard case DecodingError.dataCorrupted(let context) = error else { return false }
        return context.underlyingError is JSONSyntaxError
    }

    /// A human sentence for a decoding error, without Swift's debug noise.
    public static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            return context.debugDescription.contains("JSON") || context.codingPath.isEmpty && !context.debugDescription.hasPrefix("unknown")
                ? "malformed JSON: \(context.debugDescription)" : context.debugDescription
        case DecodingError.keyNotFound(let key, _):
            return "missing field \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field \"\(path)\" has the wrong type"
        default:
            return "\(error)"
        }
    }
}
