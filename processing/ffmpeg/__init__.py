"""Everything that builds or runs an FFmpeg/ffprobe command line lives in this package.

- safety.py: the input flags every call carries (no URLs, no other files, bounded pictures).
- commands.py: builders of argument lists for clip work (probe checks, posters, filmstrips,
  proxies, renditions, loudness, extracts) and the size and loudness arithmetic around them.
- export/: pure builders of an export's commands (chunks, the final mux, the smart path).
- runner.py: the one place a process is started: progress, timeout, cancellation, niceness and
  a memory cap. Inside a job, FFmpeg runs through JobContext.run_ffmpeg, which adds the job's
  progress and cancel.
Builders run nothing and read nothing but settings (binaries, threads).
"""
