import Foundation
import Testing

/// Swift 6.0 reads Package@swift-6.0.swift, everything newer Package.swift: the two must describe
/// the same package but for swift-property-based (it needs Swift 6.1) and the model test using it.
@Suite struct ManifestTests {
    @Test func theSwift60ManifestDiffersOnlyInWhatSwift60CannotBuild() throws {
        func significant(_ name: String) throws -> [String] {
            try String(contentsOfFile: repositoryRoot() + "/" + name, encoding: .utf8)
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.hasPrefix("//") && !$0.contains("PropertyBased") && !$0.contains("swift-property-based") }
                .map { $0.replacingOccurrences(of: #"], exclude: ["SpoolModelTests.swift"]),"#, with: "])") }
                .map { $0.hasSuffix(",") ? String($0.dropLast()) : $0 } // the formatter's trailing commas
                .filter { $0 != "])" && !$0.isEmpty }
        }
        #expect(try significant("Package.swift") == significant("Package@swift-6.0.swift"))
    }
}
