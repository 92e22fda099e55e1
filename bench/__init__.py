"""cowrite's benchmark harness: workloads run against cowrite and its peers side by side."""
