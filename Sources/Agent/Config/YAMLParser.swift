import CYAML

enum YAMLParser {
    /// Parses one document. An empty file is an empty mapping.
    static func parse(_ text: String) throws -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(line: 0, message: "cannot initialise libyaml") }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var stack: [(node: PendingNode, line: Int)] = []
            var root: YAMLNode?
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "syntax error"
                    throw YAMLError(line: Int(parser.problem_mark.line) + 1, message: "YAML syntax: \(problem)")
                }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                var finished: YAMLNode?
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return root ?? YAMLNode(.mapping([]), line: 1)
                case YAML_ALIAS_EVENT:
                    throw YAMLError(line: line, message: "aliases (*name) are not supported in the config")
                case YAML_SCALAR_EVENT:
                    let s = event.data.scalar
                    let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                    finished = YAMLNode(.scalar(value, plain: s.style == YAML_PLAIN_SCALAR_STYLE), line: line)
                case YAML_MAPPING_START_EVENT:
                    stack.append((.mapping([], pendingKey: nil), line))
                case YAML_SEQUENCE_START_EVENT:
                    stack.append((.sequence([]), line))
                case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                    let (pending, start) = stack.removeLast()
                    switch pending {
                    case .mapping(let entries, _): finished = YAMLNode(.mapping(entries), line: start)
                    case .sequence(let items): finished = YAMLNode(.sequence(items), line: start)
                    }
                default:
                    break
                }
                guard let node = finished else { continue }
                if stack.isEmpty { root = node; continue }
                switch stack[stack.count - 1].node {
                case .sequence(var items):
                    items.append(node)
                    stack[stack.count - 1].node = .sequence(items)
                case .mapping(var entries, let key):
                    if let key {
                        if entries.contains(where: { $0.key == key }) {
                            throw YAMLError(line: node.line, message: "key '\(key)' appears twice")
                        }
                        entries.append((key, node))
                        stack[stack.count - 1].node = .mapping(entries, pendingKey: nil)
                    } else {
                        guard case .scalar(let k, _) = node.kind else {
                            throw YAMLError(line: node.line, message: "mapping keys must be plain values")
                        }
                        stack[stack.count - 1].node = .mapping(entries, pendingKey: k)
                    }
                }
            }
        }
    }

    private enum PendingNode {
        case mapping([(key: String, value: YAMLNode)], pendingKey: String?)
        case sequence([YAMLNode])
    }
}
