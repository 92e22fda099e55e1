"""Fan-out between processes: in-memory for one process, Redis for several."""
