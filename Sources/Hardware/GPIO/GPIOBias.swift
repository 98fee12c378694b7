public enum GPIOBias: Sendable { case asIs, disabled, pullUp, pullDown }
