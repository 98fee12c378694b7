/// Monotonic time in nanoseconds (CLOCK_MONOTONIC), passed in by whoever drives a state machine:
/// the MQTT session, the spool and the agent's loop all count in it.
public typealias Nanoseconds = UInt64
