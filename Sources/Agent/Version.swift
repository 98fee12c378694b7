/// The one version string: `edge-agent --version`, the status message, the start line.
public enum AgentVersion { public static let string = "0.1.0" }
