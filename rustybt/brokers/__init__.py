"""Brokers: the :class:`Broker` protocol and its implementations.

The simulated broker is :class:`rustybt.brokers.simulated.SimulationBlotter`
(zipline's blotter); paper and live adapters implement the same protocol.
"""

from rustybt.brokers.protocol import BarFills, Broker

__all__ = ["BarFills", "Broker"]
