// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "flame-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FLAME", targets: ["FLAME"]),
        .library(name: "FLAMEWire", targets: ["FLAMEWire"]),
        .library(name: "FLAMESlurm", targets: ["FLAMESlurm"]),
        .executable(name: "flame-demo", targets: ["flame-demo"]),
        .executable(name: "flamectl", targets: ["flamectl"]),
        .executable(name: "flame-top", targets: ["flame-top"]),
        .library(name: "FLAMEAdmin", targets: ["FLAMEAdmin"]),
        .library(name: "FLAMEAdminClient", targets: ["FLAMEAdminClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", exact: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.2"),
    ],
    targets: [
        // Linux calls Swift cannot make directly: prctl (variadic), pidfd_open, environ,
        // and a posix_spawn wrapper that resets the signal mask and process group.
        .target(name: "CFLAMEShims"),

        // Frames and messages of the parent <-> runner protocol. No I/O, no policy.
        .target(name: "FLAMEWire", swiftSettings: strictSettings),

        // The pool's policy: a sans-IO state machine (runners, waiters, calls, scaling, timers)
        // and the errors it decides. No I/O, no clocks; its state is changed only by its events.
        .target(
            name: "FLAMEPolicy",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: strictSettings
        ),

        // Jobs, pools, backends, the runner side.
        .target(
            name: "FLAME",
            dependencies: [
                "CFLAMEShims",
                "FLAMEPolicy",
                "FLAMEWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // Runners as Slurm jobs: a launcher (srun) on the TCP transport.
        .target(
            name: "FLAMESlurm",
            dependencies: ["FLAME", "FLAMEWire", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),

        // The admin protocol: snapshot and message types, the line codec, socket locations.
        // Shared by the server, flamectl and flame-top.
        .target(name: "FLAMEAdminProtocol", swiftSettings: strictSettings),

        // The admin socket server, in the parent.
        .target(
            name: "FLAMEAdmin",
            dependencies: [
                "FLAME", "FLAMEAdminProtocol", "CFLAMEShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // The one admin client, shared by flamectl and flame-top.
        .target(
            name: "FLAMEAdminClient",
            dependencies: [
                "FLAMEAdminProtocol", "CFLAMEShims", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),

        // What flamectl and flame-top share on the command line: exit codes, --version.
        .target(
            name: "FLAMEToolSupport",
            dependencies: ["FLAMEAdminClient", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),

        // flamectl: the admin socket from the shell.
        .executableTarget(
            name: "flamectl",
            dependencies: ["FLAMEAdminClient", "FLAMEToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),

        // flame-top without ncurses: model, actions, update, view into a cell buffer, themes.
        .target(name: "FlameTopCore", dependencies: ["FLAMEAdminProtocol"], swiftSettings: strictSettings),

        // ncursesw, for the flame-top executable only.
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncurses-dev"])]),

        // flame-top: the terminal shell around FlameTopCore.
        .executableTarget(
            name: "flame-top",
            dependencies: [
                "FlameTopCore", "FLAMEAdminClient", "FLAMEAdminProtocol", "FLAMEToolSupport", "CNcurses",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),

        // The demo parent: two pools under steady load.
        .executableTarget(
            name: "flame-demo",
            dependencies: [
                "FLAME", "FLAMEAdmin", "FLAMESlurm",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // Admin socket measurements (make bench): snapshot cost with 100 runners, parent CPU
        // with subscribed clients.
        .executableTarget(
            name: "flame-admin-bench",
            dependencies: ["FLAME", "FLAMEAdmin", "FLAMEAdminClient", "FLAMEAdminProtocol", "FlameTopCore"],
            path: "Benchmarks/AdminBench",
            swiftSettings: strictSettings
        ),

        // Jobs used by the integration tests, linked by both the tests and the helper
        // runner executable so their mangled names resolve in both binaries.
        .target(name: "FLAMETestJobs", dependencies: ["FLAME", "FLAMEWire"], swiftSettings: strictSettings),
        // Under `swift test` /proc/self/exe is the test bundle, whose main never calls
        // FLAME.bootstrap(); integration tests launch this executable as their runner.
        .executableTarget(
            name: "flame-test-runner",
            dependencies: ["FLAME", "FLAMETestJobs"],
            swiftSettings: strictSettings
        ),

        // First measurements (make bench): its own runner, release mode.
        // Its swarm mode simulates 2,000 runners over TCP, many per process (real protocol,
        // real jobs), and measures the parent holding them.
        .executableTarget(
            name: "flame-bench",
            dependencies: [
                "FLAME", "FLAMEWire", "FLAMEAdmin", "FLAMEAdminProtocol", "FLAMESlurm", "CFLAMEShims",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/FlameBench", swiftSettings: strictSettings),

        // The reliability suite: scenarios that abuse pools under load (make chaos, make test).
        .target(
            name: "FLAMEChaos", dependencies: ["FLAME", "FLAMEAdmin", "FLAMEAdminClient", "FLAMEAdminProtocol", "FLAMETestJobs"],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "flame-chaos",
            dependencies: [
                "FLAME", "FLAMEChaos", "FLAMESlurm",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // The README's example app, verbatim (ReadmeExampleTests checks that it still is, and
        // runs it), so that the first code a user copies always compiles and works.
        .executableTarget(name: "readme-example", dependencies: ["FLAME"], path: "Tests/ReadmeExample", swiftSettings: strictSettings),

        // Helpers shared by the test targets (runner location, polling, pools under test).
        .target(name: "FLAMETestSupport", dependencies: ["FLAME", "FLAMEChaos", "CFLAMEShims"], swiftSettings: strictSettings),

        .testTarget(name: "FLAMEWireTests", dependencies: ["FLAMEWire", "FLAMETestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "FLAMETests",
            dependencies: ["FLAME", "FLAMEPolicy", "FLAMEChaos", "FLAMETestJobs", "FLAMETestSupport", "flame-test-runner", "readme-example"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FLAMESlurmTests",
            dependencies: ["FLAME", "FLAMESlurm", "FLAMETestJobs", "FLAMETestSupport", "flame-test-runner", "flame-demo", "flamectl"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlameTopCoreTests", dependencies: ["FlameTopCore", "FLAMEAdminProtocol"], exclude: ["Goldens"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "FlameTopTests", dependencies: ["FLAMETestSupport", "flame-top", "flame-demo"], swiftSettings: strictSettings),
        .testTarget(
            name: "FLAMEAdminTests",
            dependencies: [
                "FLAME", "FLAMEAdmin", "FLAMEAdminClient", "FLAMEAdminProtocol", "FLAMEChaos", "FLAMETestJobs", "FLAMETestSupport",
                "flame-test-runner", "flamectl", "flame-demo",
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
