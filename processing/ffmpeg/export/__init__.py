"""Pure builders of the FFmpeg commands that export a timeline (the exports app runs them).

- graphs.py: filter-graph text (picture and sound pieces, gaps, the mix, the loudness gain);
- chunk.py: what one chunk holds (ChunkSpec) and the commands that render or copy it;
- mux.py: the chunks joined by stream copy, the sound measured and encoded once;
- smart.py: whether a chunk's picture can be stream-copied from its sources.
"""
