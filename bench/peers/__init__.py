"""Peer servers and ceilings that the benchmarks run beside cowrite."""
