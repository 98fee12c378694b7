public enum GPIOEdge: Sendable { case rising, falling, both }
