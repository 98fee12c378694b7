import CYAML

/// A YAML document as a tree, every node with its line, so errors can say where they are.
/// Built from libyaml's event stream; anchors and aliases are refused (a config file has no use
/// for them, and they make "which line is wrong" ambiguous).
final class YAMLNode {
    enum Kind {
        case scalar(String, plain: Bool)
        case mapping([(key: String, value: YAMLNode)])
        case sequence([YAMLNode])
    }

    let kind: Kind
    let line: Int
    /// Keys a decoder looked at; the rest are unknown keys.
    var usedKeys: Set<String> = []

    init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
    }

    var isNull: Bool {
        if case .scalar(let s, let plain) = kind, plain, ["", "~", "null", "Null", "NULL"].contains(s) { return true }
        return false
    }

    var typeName: String {
        switch kind {
        case .scalar: "a value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}
