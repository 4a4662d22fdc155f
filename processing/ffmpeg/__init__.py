"""Everything that builds or runs an FFmpeg/ffprobe command line lives in this package.

- safety.py: the input flags every call carries (no URLs, no other files, bounded pictures).
- commands.py: pure functions building argument lists for ingest work.
- export/: pure builders of an export's commands (chunks, the final mux, the smart path).
- runner.py: executes a command with progress, timeout, cancellation, niceness and a memory cap.
"""
