"""Ingest and clip jobs: what happens to a clip after its original is stored.

`pipeline` chains the steps (scan → probe → thumbnails and proxy) and moves the clip from
`processing` to `ready` or `failed`; `steps` and `extract` hold the job handlers, one per job
type, registered with the processing engine in ClipsConfig.ready().
"""
