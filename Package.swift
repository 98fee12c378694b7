// swift-tools-version:6.1
// Swift 6.0 (Debian 13's swiftlang) reads Package@swift-6.0.swift instead: the same package without
// swift-property-based, which needs 6.1, and the spool's model test that uses it.
import PackageDescription

// Release builds of our own modules optimise for size: the hot paths allocate nothing and spend
// their time in syscalls, and -Osize measured no slower per reading here (see README, Footprint).
// They also leave out the dynamic exclusivity checks, 40 % of the instructions per publish
// (Benchmarks/cpu_publish.py: 6,341 -> 3,795); debug builds, which run the whole test suite,
// keep them, so an overlapping access still traps there.
let sizeOptimised: [SwiftSetting] = [.unsafeFlags(["-Osize", "-enforce-exclusivity=unchecked"], .when(configuration: .release))]

// Dependencies point one way: edge-agent -> Agent -> {MQTT, Spool, Sensors -> Hardware}.
let package = Package(
    name: "edge-agent",
    products: [
        .executable(name: "edge-agent", targets: ["edge-agent"])
    ],
    dependencies: [
        // Command-line parsing for the user's toolbox (run, pub, sub, spool, bench, ...).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Model-based property tests of the spool (tests only; never linked into the binary).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // System libraries, wrapped by thin Swift layers in the modules that use them.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        // epoll, signalfd and adjtimex headers (libc itself, nothing to link).
        .systemLibrary(name: "CLinux"),
        // I2C: i2c-dev ioctls and libi2c's SMBus calls. GPIO: libgpiod, 1.6 (Debian 12, Raspberry Pi OS
        // bookworm) or 2.x (Debian 13 trixie), behind one C interface compiled against whichever is there.
        .systemLibrary(name: "CI2C", providers: [.apt(["libi2c-dev"])]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .target(name: "CGPIOLines", dependencies: ["CGPIOD"]),

        // Errno and FileDescriptor: the typed system calls of the spool, the sockets and the loop.
        .target(name: "Syscalls", swiftSettings: sizeOptimised),

        // OpenSSL's allocations through size-class free lists: no malloc per TLS record.
        .target(name: "CTLSMemory", dependencies: ["COpenSSL"]),

        // Sans-I/O MQTT 3.1.1 codec and session state, with TCP/TLS transport and a client on top.
        .target(
            name: "MQTT",
            dependencies: [
                "COpenSSL", "CTLSMemory", "Syscalls",
            ], swiftSettings: sizeOptimised),
        // The crash-safe on-disk ring buffer of readings.
        .target(
            name: "Spool",
            dependencies: [
                "Syscalls"
            ], swiftSettings: sizeOptimised),

        // I2C buses and GPIO chips: Linux (libi2c, libgpiod) and simulated.
        .target(name: "Hardware", dependencies: ["CI2C", "CGPIOLines"], swiftSettings: sizeOptimised),
        // Sensor drivers and IO expanders on top of Hardware, with chip models for the simulated bus.
        .target(name: "Sensors", dependencies: ["Hardware"], swiftSettings: sizeOptimised),

        // The daemon: configuration, event loop, pipeline, commands, status.
        .target(
            name: "Agent",
            dependencies: [
                "MQTT", "Spool", "Hardware", "Sensors", "CYAML", "CLinux",
                "Syscalls", "COpenSSL",
            ],
            swiftSettings: sizeOptimised),

        .executableTarget(
            name: "edge-agent",
            dependencies: [
                "Agent", "MQTT", "Spool", "Hardware", "Sensors", "Syscalls",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: sizeOptimised,
            // Release links with the toolchain's lld: packed relative relocations (DT_RELR, glibc
            // 2.36: Debian 12, Raspberry Pi OS bookworm) store the position-independent binary's
            // 40,000 pointer fix-ups in 8 KB instead of 950 KB, and identical code folding keeps
            // generic specialisations that compile to the same machine code once (0.2 MB). -z now
            // and -z relro: every symbol bound at start-up, the relocated data read-only after it
            // (full RELRO, what Debian's hardening flags give a daemon).
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                        "-Xlinker", "--icf=all", "-Xlinker", "-z", "-Xlinker", "now",
                        "-Xlinker", "-z", "-Xlinker", "relro",
                    ], .when(platforms: [.linux], configuration: .release))
            ]),

        // Shared by the test targets: a real mosquitto on a free loopback port, certificates, processes.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "CTLSMemory", "Syscalls", "TestSupport"]),
        .testTarget(name: "SensorsTests", dependencies: ["Sensors", "Hardware"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "MQTT", "Syscalls", "TestSupport", "edge-agent"]),
        // A child process for the spool's crash tests: appends until SIGKILLed.
        .executableTarget(name: "spool-crash-writer", dependencies: ["Spool"], path: "Tests/SpoolCrashWriter"),
        .testTarget(
            name: "SpoolTests",
            dependencies: [
                "Spool", "Syscalls", "TestSupport", "spool-crash-writer", "CZlib",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
    ]
)

// libFuzzer targets for every parser of outside bytes (scripts/fuzz.sh); without -D FUZZING the
// same binary replays a corpus. They reach into the modules with @testable imports, which only a
// debug build allows, so they are part of the package only when EDGE_AGENT_FUZZ is set (as
// scripts/fuzz.sh does): a plain `swift build -c release` builds the agent alone.
if Context.environment["EDGE_AGENT_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "edge-agent-fuzz", dependencies: ["Agent", "MQTT", "Sensors", "Spool", "Syscalls"], path: "Tests/Fuzz",
            exclude: ["corpus"],
            linkerSettings: [.unsafeFlags(["-use-ld=lld"], .when(platforms: [.linux]))]))
}
